"""Model diagrams drawn from the model itself: boxes and arrows read from the Keras graph.

A model diagram walks the Keras graph (layers, output shapes, the layers each one is called
on); it holds no list of boxes that could drift from the code. Matplotlib only, no graphviz.

Public names
------------
model_graph     the boxes and arrows of a model diagram, read from the Keras graph (layers, shapes, inbound layers)
plot_model      a model drawn from its own layers, top to bottom, skip connections included (matplotlib only)
Diagram         what a diagram drew: the figure, its boxes and its arrows
DiagramNode     one box of a model diagram
DIAGRAM_FONT    the size of a diagram's labels (points)

Notebook: notebooks/03_vae_theory.ipynb, notebooks/06_training_vae.ipynb, notebooks/07_training_unet.ipynb
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import AudiogenError
from .plots import DPI


DIAGRAM_FONT = 10.5           # points: at 80 dpi a diagram's labels are 11-12 px high, readable


_ELEMENTWISE = ("ReLU", "LeakyReLU", "BatchNormalization", "Activation", "Dropout", "LayerNormalization")
_RESHAPING = ("Flatten", "Reshape")


@dataclass(frozen=True)
class DiagramNode:
    """One box of a model diagram: the layers drawn in it, what they do, and where it sits."""

    key: str                   # the first layer's name: edges refer to boxes by it
    label: str                 # the name written in the box
    layers: tuple[str, ...]    # every layer drawn in this box, in order
    kind: str                  # what the box does, e.g. "conv 3×3 /2, ReLU"
    shape: tuple               # output shape of the box's last layer, without the batch axis
    input_shape: tuple         # output shape of its first layer (differs where a Flatten or Reshape joined it)
    depth: int                 # halvings of the input's height (spatial), or one below the deepest (vectors)
    rank: int                  # longest path from the input: the row the box is drawn in


@dataclass(frozen=True)
class Diagram:
    """What :func:`plot_model` or :func:`plot_pipeline` drew: the figure, its boxes and its arrows.

    ``edges`` are ``(from_key, to_key, kind)``; ``kind`` is ``"flow"``, or ``"skip"`` for an
    arrow that jumps over rows (a skip connection).
    """

    figure: object
    nodes: tuple
    edges: tuple

    def __repr__(self) -> str:  # a cell ending with a diagram shows the figure, not a dump of its boxes
        return f"<Diagram: {len(self.nodes)} boxes, {len(self.edges)} arrows>"


def _layer_parents(layer) -> list:
    """The layers whose outputs ``layer`` is called on in a functional graph."""
    if type(layer).__name__ == "InputLayer":
        return []
    inputs = layer.input
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return [t._keras_history.operation for t in inputs]


def _short_shape(shape) -> tuple:
    return tuple(int(s) for s in shape[1:])


def _layer_kind(layer) -> str:
    """A few words for what one layer does, from its class and settings."""
    cls = type(layer).__name__

    def size(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        return "×".join(str(int(s)) for s in v)

    def stride(v):
        v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
        if all(s == 1 for s in v):
            return ""
        return f" /{v[0]}" if len(set(v)) == 1 else f" /({', '.join(str(s) for s in v)})"

    def filters(n):
        return f"{n} filter{'s' if n != 1 else ''}"

    if cls == "InputLayer":
        text = "input"
    elif cls == "Conv2D":
        text = f"conv {size(layer.kernel_size)}{stride(layer.strides)}, {filters(layer.filters)}"
    elif cls == "Conv2DTranspose":
        text = f"up-conv {size(layer.kernel_size)}{stride(layer.strides).replace('/', '×')}, {filters(layer.filters)}"
    elif cls == "MaxPooling2D":
        text = f"max pool {size(layer.pool_size)}"
    elif cls == "Dense":
        text = f"dense, {layer.units} units"
    elif cls == "Concatenate":
        text = "concatenate (skip)"
    elif cls == "Sampling":
        text = "sample z = μ + σ·ε"
    elif cls == "BatchNormalization":
        text = "BatchNorm"
    elif cls == "Activation":
        text = getattr(layer.activation, "__name__", "activation")
    else:
        text = cls.lower() if cls in _RESHAPING else cls
    activation = getattr(layer.activation, "__name__", "linear") if cls in ("Conv2D", "Conv2DTranspose", "Dense") else "linear"
    if activation != "linear":
        text += f", {'ReLU' if activation == 'relu' else activation}"
    return text


def _same_kind(a, b) -> bool:
    """Two layers that do the same thing to the same shape (a U-Net level's pair of convolutions)."""
    if type(a).__name__ != type(b).__name__ or type(a).__name__ not in ("Conv2D", "Conv2DTranspose", "Dense"):
        return False
    return _short_shape(a.output.shape) == _short_shape(b.output.shape) and _layer_kind(a) == _layer_kind(b)


def _raw_graph(model) -> tuple[list, dict]:
    """Every layer of ``model`` in graph order, and each layer's parents (by name).

    A functional model is read from its own graph. A VAE of this library (a subclassed
    model holding a functional ``encoder`` and ``decoder``) is the encoder's graph, its
    ``sampling`` layer fed by the encoder's outputs, and the decoder's graph fed by it:
    the wiring of :meth:`audiogen_lib.models.VAE.call`.
    """
    encoder, decoder = getattr(model, "encoder", None), getattr(model, "decoder", None)
    if encoder is not None and decoder is not None and hasattr(model, "sampling"):
        layers, parents = _raw_graph(encoder)
        heads = [t._keras_history.operation.name for t in encoder.outputs]
        sampling = model.sampling
        layers.append(sampling)
        parents[sampling.name] = heads
        dec_layers, dec_parents = _raw_graph(decoder)
        for layer in dec_layers:
            p = dec_parents[layer.name]
            parents[layer.name] = p if type(layer).__name__ != "InputLayer" else [sampling.name]
        layers += dec_layers
        return layers, parents
    if not hasattr(model, "layers") or not getattr(model, "inputs", None):
        raise AudiogenError(f"plot_model draws a functional Keras model or a VAE built by build_vae; "
                            f"got {type(model).__name__}, which has no graph of layers to walk")
    layers = list(model.layers)
    names = {layer.name for layer in layers}
    parents = {layer.name: [p.name for p in _layer_parents(layer) if p.name in names] for layer in layers}
    return layers, parents


def model_graph(model, *, collapse: bool = True) -> tuple[tuple, tuple]:
    """The boxes and arrows of a diagram of ``model``: ``(nodes, edges)``, read from its layers.

    Each Keras layer is drawn in exactly one box. With ``collapse`` a layer joins the box
    of the one layer it is called on, when that layer feeds nothing else, if it is
    element-wise (ReLU, BatchNorm, an activation), only reshapes (Flatten, Reshape), or
    repeats the previous layer's operation on the same shape (a U-Net level's two
    convolutions). A VAE's decoder input joins the sampling box that feeds it.

    ``edges`` are ``(from_key, to_key, kind)`` with ``kind`` ``"skip"`` where the arrow jumps
    over rows of the diagram (a skip connection), otherwise ``"flow"``.

    Notebook: notebooks/07_training_unet.ipynb
    """
    layers, parents = _raw_graph(model)
    by_name = {layer.name: layer for layer in layers}
    children: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for name, ps in parents.items():
        for p in ps:
            children[p].append(name)

    box_of: dict[str, str] = {}           # layer name -> key of its box
    members: dict[str, list[str]] = {}    # box key -> its layers
    for layer in layers:
        name, cls = layer.name, type(layer).__name__
        ps = parents[name]
        joined = False
        if collapse and len(ps) == 1 and len(children[ps[0]]) == 1:
            key = box_of[ps[0]]
            last = by_name[members[key][-1]]
            head = by_name[members[key][0]]
            parent_cls = type(by_name[ps[0]]).__name__
            if ((cls in _ELEMENTWISE or cls in _RESHAPING) and type(head).__name__ != "InputLayer"
                    or cls == "InputLayer" and parent_cls == "Sampling"
                    or _same_kind(last, layer) and all(_same_kind(head, by_name[m]) for m in members[key])):
                members[key].append(name)
                box_of[name] = key
                joined = True
        if not joined:
            members[name] = [name]
            box_of[name] = name

    def output_shape(layer) -> tuple:
        if type(layer).__name__ == "Sampling":
            return _short_shape(layer.output.shape) if hasattr(layer, "output") else ()
        out = layer.output
        return _short_shape((out[0] if isinstance(out, (list, tuple)) else out).shape)

    # depth counts halvings from the image's height: the spatial input's, or for a decoder that
    # reads only vectors, its largest spatial output's
    images = [_short_shape(layer.output.shape) for layer in layers
              if type(layer).__name__ != "Sampling" and not isinstance(layer.output, (list, tuple))]
    image_inputs = [_short_shape(layer.output.shape)[0] for layer in layers
                    if type(layer).__name__ == "InputLayer" and len(_short_shape(layer.output.shape)) == 3]
    input_height = (image_inputs[0] if image_inputs
                    else max((shape[0] for shape in images if len(shape) == 3), default=None))

    def spatial_depth(shape) -> int | None:
        if len(shape) != 3 or not input_height:
            return None
        return int(round(np.log2(input_height / shape[0])))

    edges, seen = [], set()
    for name in box_of:
        for p in parents[name]:
            a, b = box_of[p], box_of[name]
            if a != b and (a, b) not in seen:
                seen.add((a, b))
                edges.append((a, b))
    rank: dict[str, int] = {}
    for key in members:                    # layers come in graph order, so parents are ranked first
        rank[key] = max((rank[a] + 1 for a, b in edges if b == key), default=0)

    shapes, depths = {}, {}
    for key, names in members.items():
        head_shape = output_shape(by_name[names[0]])
        if type(by_name[names[0]]).__name__ == "Sampling":
            head_shape = output_shape(by_name[parents[names[0]][0]])
        shapes[key] = (head_shape, output_shape(by_name[names[-1]]) if len(names) > 1 else head_shape)
        depths[key] = spatial_depth(head_shape)
    deepest = max((d for d in depths.values() if d is not None), default=0)

    nodes = []
    for key, names in members.items():
        head = by_name[names[0]]
        same = [names[0]]                  # the head, and the layers that repeat it
        for n in names[1:]:
            if not _same_kind(head, by_name[n]):
                break
            same.append(n)
        kind = _layer_kind(head) if len(same) == 1 else f"{len(same)} × {_layer_kind(head)}"
        extra = [_layer_kind(by_name[n]) for n in names[len(same):]
                 if type(by_name[n]).__name__ != "InputLayer"]
        kind = ", ".join([kind] + extra)
        if len(same) > 1:
            prefix = os.path.commonprefix(same)
            label = prefix + "/".join(n[len(prefix):] for n in same)
        else:
            label = key
        if type(head).__name__ == "Sampling" and len(names) > 1:
            label = f"{key} → {names[-1]}"
        d = depths[key]
        nodes.append(DiagramNode(key=key, label=label, layers=tuple(names), kind=kind, shape=shapes[key][1],
                                 input_shape=shapes[key][0], depth=deepest + 1 if d is None else d, rank=rank[key]))
    typed = tuple((a, b, "skip" if rank[b] - rank[a] > 1 else "flow") for a, b in edges)
    return tuple(nodes), typed


def _shape_text(shape) -> str:
    return " × ".join(f"{s:,}" for s in shape) if shape else ""


def plot_model(model, *, collapse: bool = True, title: str | None = None, box_width: float | None = None,
               indent: float = 0.5, row_height: float = 0.62) -> Diagram:
    """Draw ``model`` from its own layers: one box per layer (or per collapsed group), top to bottom.

    Each box gives the layer's name and output shape (height × width × channels), and
    what it does. Rows follow the graph; each box is indented by how many times the
    input's height has been halved, so an encoder steps right and a decoder steps back
    left, and a U-Net's skip connections (orange, on the left) join boxes at the same depth.
    Vectors (dense layers, the latent code) sit one step deeper than the deepest map.
    Matplotlib only: no graphviz. Returns a :class:`Diagram` with the figure and what
    was drawn (see :func:`model_graph` for the rules).

    Notebook: notebooks/03_vae_theory.ipynb, notebooks/06_training_vae.ipynb, notebooks/07_training_unet.ipynb
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    nodes, edges = model_graph(model, collapse=collapse)
    heads = {n.key: f"{n.label}  ·  {_shape_text(n.shape)}" for n in nodes}
    for n in nodes:
        if n.input_shape != n.shape:       # a box that reshapes: both shapes
            heads[n.key] = f"{n.label}  ·  {_shape_text(n.input_shape)} → {_shape_text(n.shape)}"

    def text_width(n) -> float:            # inches for a box's longest line (DejaVu Sans: 0.6 em a bold character)
        return 0.25 + max(0.0085 * len(heads[n.key]), 0.0075 * len(n.kind)) * DIAGRAM_FONT

    if box_width is None:
        box_width = max(1.6, max(text_width(n) for n in nodes))
    n_rows = 1 + max(n.rank for n in nodes)
    sharing: dict[int, list] = {}          # boxes that share a row (a VAE's mu and log_var) stand side by side
    for n in nodes:
        sharing.setdefault(n.rank, []).append(n)
    pos, width = {}, {}
    for row, group in sharing.items():
        # side by side, each as wide as its own text (a shared row would otherwise widen the figure)
        w = box_width if len(group) == 1 else min(box_width, max(max(text_width(n) for n in group), 1.6))
        for j, n in enumerate(group):
            width[n.key] = w
            pos[n.key] = (n.depth * indent + (j - (len(group) - 1) / 2) * (w + 0.2), -row * row_height)
    left = min(x - width[k] / 2 for k, (x, _) in pos.items()) - (0.45 if any(k == "skip" for *_, k in edges) else 0.05)
    right = max(x + width[k] / 2 for k, (x, _) in pos.items()) + 0.05
    height = n_rows * row_height + (0.3 if title else 0.0)
    fig, ax = plt.subplots(figsize=(right - left, height), dpi=DPI)
    fig.subplots_adjust(0, 0, 1, 1 - (0.3 / height if title else 0))
    ax.set(xlim=(left, right), ylim=(-(n_rows - 0.5) * row_height, 0.5 * row_height))
    ax.axis("off")
    h = 0.76 * row_height
    colours = {"input": "#e8e8e8", "conv": "#dbe9f6", "up-conv": "#dff0d8", "max pool": "#fdebd0",
               "dense": "#f2e0f5", "sample": "#fff3b0", "concatenate": "#fde0dd"}
    for n in nodes:
        x, y = pos[n.key]
        kind = n.kind.split(" × ", 1)[-1] if n.kind[:1].isdigit() else n.kind
        face = next((c for k, c in colours.items() if kind.startswith(k)), "#f4f4f4")
        ax.add_patch(FancyBboxPatch((x - width[n.key] / 2, y - h / 2), width[n.key], h,
                                    boxstyle="round,pad=0,rounding_size=0.05", facecolor=face, edgecolor="0.35", lw=0.8))
        ax.text(x, y + h * 0.22, heads[n.key], ha="center", va="center", fontsize=DIAGRAM_FONT, weight="bold")
        ax.text(x, y - h * 0.24, n.kind, ha="center", va="center", fontsize=DIAGRAM_FONT - 0.5)
    arrow = dict(arrowstyle="-|>", mutation_scale=8, lw=0.8, shrinkA=0, shrinkB=0)
    for a, b, kind in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        if kind == "flow":
            ax.annotate("", xy=(xb, yb + h / 2), xytext=(xa, ya - h / 2), arrowprops=dict(arrow, color="0.3"))
        else:  # out of the left side, down, and into the left side of the box it joins
            xl = min(xa, xb) - box_width / 2 - 0.2
            ax.plot([xa - box_width / 2, xl, xl], [ya, ya, yb], color="C1", lw=1.2)
            ax.annotate("", xy=(xb - box_width / 2, yb), xytext=(xl, yb), arrowprops=dict(arrow, color="C1", lw=1.2))
    if title:
        fig.suptitle(title, fontsize=DIAGRAM_FONT + 1)
    return Diagram(fig, nodes, edges)
