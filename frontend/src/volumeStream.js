// Streams the raw int16 volume straight into the scalar array Cornerstone renders from, and reports
// each run of axial slices as soon as all of its bytes have arrived. The first slices are on screen
// while the rest of the volume is still on the wire. When onSlices asks for a redraw (returns true)
// we wait for the next frame: buffered chunks resolve as microtasks and would otherwise starve it.

export async function streamVolumeInto({ responsePromise, scalarData, sliceVoxels, onSlices }) {
  const response = await responsePromise;
  if (!response.ok) {
    throw new Error(`The CT volume could not be loaded (${response.status}).`);
  }
  const target = new Uint8Array(scalarData.buffer, scalarData.byteOffset, scalarData.byteLength);
  const sliceBytes = sliceVoxels * scalarData.BYTES_PER_ELEMENT;
  const reader = response.body.getReader();
  let received = 0;
  let slicesDone = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    if (received + value.byteLength > target.byteLength) {
      throw new Error('The CT volume is larger than its size says; refusing to display it.');
    }
    target.set(value, received);
    received += value.byteLength;
    const complete = Math.floor(received / sliceBytes);
    if (complete > slicesDone) {
      const redraw = onSlices(slicesDone, complete);
      slicesDone = complete;
      if (redraw) {
        await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      }
    }
  }
  if (received !== target.byteLength) {
    throw new Error(`The CT volume is truncated (${received} of ${target.byteLength} bytes).`);
  }
}
