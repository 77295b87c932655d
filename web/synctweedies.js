// Shows on the Wide Canvas node how many views its settings make, updated as widgets change.
import { app } from "../../scripts/app.js";
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
