// Builds the annotation viewer into dist/viewer/ with fixed file names, so Django's
// {% static 'viewer/viewer.js' %} finds it without a manifest. Everything (workers included)
// is bundled: nothing is fetched from a CDN at run time.
//
// `vite build --mode bench` (npm run build:bench) builds the same viewer with its measurements
// (src/benchProbe.js: timings, stroke latency, the page handle the browser tests drive) into
// dist-bench/viewer/, outside what production serves; Django serves it in place of the production one only
// with VIEWER_BENCH_BUILD=true (bench/bench_viewer.py and the browser tests that read timings set it).
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig(({ mode }) => ({
  base: './',
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, mode === 'bench' ? 'dist-bench/viewer' : 'dist/viewer'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    cssCodeSplit: false,
    rollupOptions: {
      input: resolve(import.meta.dirname, 'src/main.js'),
      output: {
        format: 'es',
        entryFileNames: 'viewer.js',
        chunkFileNames: 'viewer-[name].js',
        assetFileNames: (asset) => (asset.names?.[0]?.endsWith('.css') ? 'viewer.css' : '[name][extname]'),
        inlineDynamicImports: true,
      },
    },
  },
  worker: {
    format: 'es',
    rollupOptions: { output: { entryFileNames: 'viewer-worker-[name].js' } },
  },
}));
