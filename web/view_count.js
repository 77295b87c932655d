// Number of windows a wide canvas is cut into; mirrors synctweedies/spaces/wide_canvas.py.
export function windowCount(length, window, stride, wrap) {
  if (wrap) return Math.ceil(length / stride);
  const starts = Math.floor((length - window) / stride) + 1;
  return (length - window) % stride === 0 ? starts : starts + 1;
}

export function describeCanvas({ width, height, window, stride, wrap }) {
  if ([width, height, window, stride].some((v) => v % 8 !== 0)) return "sizes must be multiples of 8";
  if (stride > window) return "stride is larger than the window";
  if (width < window || height < window) return "canvas is smaller than one window";
  const views = windowCount(width, window, stride, wrap) * windowCount(height, window, stride, false);
  return `${views} views of ${window}×${window}`;
}
