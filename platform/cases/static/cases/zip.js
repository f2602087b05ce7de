// A DICOM folder becomes one .zip in the browser (entries stored, not compressed: DICOM pixel data
// hardly compresses, and storing keeps this small and fast), so a folder imports through the same
// endpoint and the same server-side zip checks as an uploaded series zip.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function header(size, fill) {
  const view = new DataView(new ArrayBuffer(size));
  fill(view);
  return new Uint8Array(view.buffer);
}

// The fixed parts of the local header and the central directory record, in ZIP's little-endian layout
// (PKWARE APPNOTE 4.3.7 and 4.3.12); 0x0800 marks UTF-8 names, method 0 is "stored".
function localHeader(name, crc, size) {
  return header(30, (v) => {
    v.setUint32(0, 0x04034b50, true); v.setUint16(4, 20, true); v.setUint16(6, 0x0800, true);
    v.setUint16(8, 0, true); v.setUint32(14, crc, true); v.setUint32(18, size, true);
    v.setUint32(22, size, true); v.setUint16(26, name.length, true);
  });
}

function centralRecord(name, crc, size, offset) {
  return header(46, (v) => {
    v.setUint32(0, 0x02014b50, true); v.setUint16(4, 20, true); v.setUint16(6, 20, true);
    v.setUint16(8, 0x0800, true); v.setUint32(16, crc, true); v.setUint32(20, size, true);
    v.setUint32(24, size, true); v.setUint16(28, name.length, true); v.setUint32(42, offset, true);
  });
}

function endRecord(count, size, offset) {
  return header(22, (v) => {
    v.setUint32(0, 0x06054b50, true); v.setUint16(8, count, true); v.setUint16(10, count, true);
    v.setUint32(12, size, true); v.setUint32(16, offset, true);
  });
}

// files: [{ name: "relative/path", file: File }]; returns a File named `zipName`.
export async function zipFolder(files, zipName) {
  const encoder = new TextEncoder();
  const parts = [];
  const central = [];
  let offset = 0;
  for (const { name, file } of files) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const encodedName = encoder.encode(name);
    const crc = crc32(bytes);
    const local = localHeader(encodedName, crc, bytes.length);
    parts.push(local, encodedName, bytes);
    central.push(centralRecord(encodedName, crc, bytes.length, offset), encodedName);
    offset += local.length + encodedName.length + bytes.length;
  }
  const centralSize = central.reduce((n, part) => n + part.length, 0);
  return new File([...parts, ...central, endRecord(files.length, centralSize, offset)], zipName,
    { type: "application/zip" });
}

// Every file under a dropped directory entry, with its path below that directory.
export async function filesOfDirectory(entry, prefix = "") {
  const reader = entry.createReader();
  const found = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    for (const child of batch) {
      if (child.isDirectory) found.push(...await filesOfDirectory(child, `${prefix}${child.name}/`));
      else found.push({ name: `${prefix}${child.name}`, file: await new Promise((ok, no) => child.file(ok, no)) });
    }
  }
  return found;
}
