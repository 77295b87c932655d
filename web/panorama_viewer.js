// A 360° viewer for equirectangular images: a perspective view that follows the mouse.
// The camera convention mirrors synctweedies/spaces/panorama.py: yaw turns right, pitch looks up,
// longitude 0 is the middle of the image.

// Perspective view (nearest pixel) of `source` ({data, width, height}, RGBA) into `target` (ImageData-like).
export function renderPerspective(source, target, yawDeg, pitchDeg, fovDeg) {
  const { width, height, data } = target;
  const focal = width / 2 / Math.tan((fovDeg * Math.PI) / 360);
  const yaw = (yawDeg * Math.PI) / 180;
  const pitch = (pitchDeg * Math.PI) / 180;
  const [cy, sy, cp, sp] = [Math.cos(yaw), Math.sin(yaw), Math.cos(pitch), Math.sin(pitch)];
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const x = (j + 0.5 - width / 2) / focal;
      const y = -(i + 0.5 - height / 2) / focal;
      // pitch about x, then yaw about y (camera looks along +z)
      const y1 = cp * y + sp;
      const z1 = -sp * y + cp;
      const wx = cy * x + sy * z1;
      const wz = -sy * x + cy * z1;
      const lon = Math.atan2(wx, wz);
      const lat = Math.asin(y1 / Math.hypot(wx, y1, wz));
      let u = Math.floor((lon / (2 * Math.PI) + 0.5) * source.width);
      let v = Math.floor((0.5 - lat / Math.PI) * source.height);
      u = ((u % source.width) + source.width) % source.width;
      v = Math.min(source.height - 1, Math.max(0, v));
      const s = (v * source.width + u) * 4;
      const t = (i * width + j) * 4;
      data[t] = source.data[s];
      data[t + 1] = source.data[s + 1];
      data[t + 2] = source.data[s + 2];
      data[t + 3] = 255;
    }
  }
  return target;
}

// A canvas that shows `url` (an equirectangular image) in perspective; drag to look around, wheel to zoom.
export function createViewer(url, size = { width: 384, height: 256 }) {
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  canvas.style.cursor = "grab";
  canvas.style.width = "100%";
  canvas.style.height = "100%";
  canvas.style.objectFit = "contain";
  const view = { yaw: 0, pitch: 0, fov: 90 };
  const context = canvas.getContext("2d");
  let source = null;
  const draw = () => {
    if (!source) return;
    const target = context.createImageData(canvas.width, canvas.height);
    context.putImageData(renderPerspective(source, target, view.yaw, view.pitch, view.fov), 0, 0);
    canvas.dataset.yaw = String(view.yaw);
    canvas.dataset.drawn = String(Number(canvas.dataset.drawn ?? 0) + 1);
  };
  const image = new Image();
  image.onload = () => {
    const buffer = document.createElement("canvas");
    buffer.width = image.width;
    buffer.height = image.height;
    const bufferContext = buffer.getContext("2d");
    bufferContext.drawImage(image, 0, 0);
    source = bufferContext.getImageData(0, 0, image.width, image.height);
    draw();
  };
  image.src = url;
  let drag = null;
  canvas.addEventListener("pointerdown", (event) => {
    drag = { x: event.clientX, y: event.clientY, yaw: view.yaw, pitch: view.pitch };
    canvas.setPointerCapture?.(event.pointerId);
    event.stopPropagation();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const degreesPerPixel = view.fov / canvas.clientWidth;
    view.yaw = drag.yaw - (event.clientX - drag.x) * degreesPerPixel;
    view.pitch = Math.max(-89, Math.min(89, drag.pitch + (event.clientY - drag.y) * degreesPerPixel));
    draw();
    event.stopPropagation();
  });
  canvas.addEventListener("pointerup", () => { drag = null; });
  canvas.addEventListener("wheel", (event) => {
    view.fov = Math.max(30, Math.min(120, view.fov + Math.sign(event.deltaY) * 5));
    draw();
    event.preventDefault();
    event.stopPropagation();
  });
  return canvas;
}
