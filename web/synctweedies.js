// Shows on the Wide Canvas node how many views its settings make, updated as widgets change.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { createViewer } from "./panorama_viewer.js";
import { describeCanvas } from "./view_count.js";

app.registerExtension({
  name: "SyncTweedies.WideCanvasViews",
  nodeCreated(node) {
    if (node.comfyClass !== "SyncTweediesWideCanvas") return;
    const value = (name) => node.widgets?.find((w) => w.name === name)?.value;
    const update = () => {
      node.title = `SyncTweedies Wide Canvas (${describeCanvas({
        width: value("width"), height: value("height"), window: value("window"),
        stride: value("stride"), wrap: value("wrap"),
      })})`;
      node.setDirtyCanvas?.(true, true);
    };
    for (const widget of node.widgets ?? []) {
      const callback = widget.callback;
      widget.callback = function (...args) {
        const result = callback?.apply(this, args);
        update();
        return result;
      };
    }
    update();
  },
});

// The Save 360° Panorama node shows its last image in a 360° viewer (drag to look around), 512×256 px at 100 %
// zoom; the bundled workflows leave room for it (workflows/build.py).
const VIEWER_SIZE = { width: 512, height: 256 };
const MARGIN = 10; // the frontend's margin around a DOM widget, each side
app.registerExtension({
  name: "SyncTweedies.PanoramaViewer",
  nodeCreated(node) {
    if (node.comfyClass !== "SyncTweediesSavePanorama") return;
    const onExecuted = node.onExecuted;
    node.onExecuted = function (message) {
      onExecuted?.apply(this, arguments);
      const image = message?.panorama?.[0];
      if (!image) return;
      const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
      const viewer = createViewer(api.apiURL(`/view?${query}`), VIEWER_SIZE);
      viewer.className = "synctweedies-panorama-viewer";
      this.widgets?.find((w) => w.name === "panorama_viewer")?.onRemove?.();
      this.widgets = this.widgets?.filter((w) => w.name !== "panorama_viewer");
      this.addDOMWidget("panorama_viewer", "panorama", viewer, {
        serialize: false, getMinHeight: () => VIEWER_SIZE.height + 2 * MARGIN, getMaxHeight: () => VIEWER_SIZE.height + 2 * MARGIN,
      });
      const [width, height] = this.computeSize();
      this.setSize([Math.max(this.size[0], width, VIEWER_SIZE.width + 2 * MARGIN), Math.max(this.size[1], height)]);
      this.setDirtyCanvas?.(true, true);
    };
  },
});
