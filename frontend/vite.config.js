// Builds the annotation viewer into dist/viewer/ with fixed file names, so Django's
// {% static 'viewer/viewer.js' %} finds it without a manifest. Everything (workers included)
// is bundled: nothing is fetched from a CDN at run time.
import { defineConfig } from 'vite';
import { resolve } from 'node:path';

export default defineConfig({
  base: './',
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, 'dist/viewer'),
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
});
