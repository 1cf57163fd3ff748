"""Network options. `seed2015` is the 2015 project's table; `drnet` is the default for
256-512 px: residual blocks with batch norm (stable at depth), global average pooling
(any input size, few parameters), so larger inputs, which matter most for DR, stay cheap."""

import torch
from torch import nn

from jobs.errors import DrcError


def _conv(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3), nn.ReLU(inplace=True)]  # 'valid', as Lasagne's default


class Seed2015(nn.Module):
    """conv3x3 32 x3, maxpool; conv3x3 64 x2, maxpool; conv3x3 128 x2, maxpool;
    dense 600, dropout, dense 600, output."""

    def __init__(self, size: int, outputs: int, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            *_conv(3, 32), *_conv(32, 32), *_conv(32, 32), nn.MaxPool2d(2),
            *_conv(32, 64), *_conv(64, 64), nn.MaxPool2d(2),
            *_conv(64, 128), *_conv(128, 128), nn.MaxPool2d(2),
        )  # fmt: skip
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 3, size, size)).numel()
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, 600), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(600, 600), nn.ReLU(inplace=True), nn.Linear(600, outputs),
        )  # fmt: skip
        # He initialisation: with PyTorch's default scale this plain (no batch norm) stack
        # sits at the class prior for many epochs before it starts to learn.
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
        )  # fmt: skip
        self.skip = (nn.Identity() if stride == 1 and cin == cout else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                   nn.BatchNorm2d(cout)))  # fmt: skip

    def forward(self, x):
        return torch.relu(self.body(x) + self.skip(x))


class DrNet(nn.Module):
    def __init__(self, size: int, outputs: int, widths=(32, 64, 128, 256), dropout=0.3):
        super().__init__()
        layers = [nn.Conv2d(3, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]),
                  nn.ReLU(inplace=True)]  # fmt: skip
        cin = widths[0]
        for i, width in enumerate(widths):
            layers += [Block(cin, width, 1 if i == 0 else 2), Block(width, width, 1)]
            cin = width
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(cin, outputs))  # fmt: skip

    def forward(self, x):
        return self.head(self.features(x))


class DrNetSmall(DrNet):
    """drnet at half the width: a quarter of the work (202 training images/s at 128 px on
    this machine's 2 cores, drnet 60), so a CPU gets 3x the optimisation steps in the same
    time; on real eyes drnet itself had learnt nothing after 490 steps (7 epochs)."""

    def __init__(self, size: int, outputs: int):
        super().__init__(size, outputs, widths=(16, 32, 64, 128))


def _backbone(name: str):
    def make(size: int, outputs: int, pretrained: bool = False):
        from jobs.cnn import efficientnet

        if pretrained:
            return efficientnet.pretrained(name, outputs)
        return efficientnet.EfficientNetLite(name, outputs)

    return make


MODELS = {"seed2015": Seed2015, "drnet": DrNet, "drnet-small": DrNetSmall,
          "efficientnet-lite0": _backbone("efficientnet-lite0"),
          "efficientnet-lite2": _backbone("efficientnet-lite2")}  # fmt: skip
MIN_SIZE = {"seed2015": 40, "drnet": 32, "drnet-small": 32, "efficientnet-lite0": 32,
            "efficientnet-lite2": 32}  # fmt: skip
# blocks of a backbone fixed by default (TrainConfig.freeze -1): its first four stages
DEFAULT_FREEZE = {"efficientnet-lite0": 8, "efficientnet-lite2": 11}


def build(name: str, size: int, outputs: int, *, pretrained: bool = False,
          freeze: int = 0, load_weights: bool = True) -> nn.Module:  # fmt: skip
    """A network; `pretrained`: a backbone started from ImageNet, its weights loaded
    (checked) unless `load_weights` is False (a resumed run's come from its checkpoint);
    `freeze` keeps its first blocks fixed (-1: DEFAULT_FREEZE). A grader or checkpoint is
    built without `pretrained`: its file holds every weight."""
    if name not in MODELS:
        raise DrcError("--model", f"{name!r} is not one of {', '.join(MODELS)}")
    if size < MIN_SIZE[name]:
        raise DrcError("--size", f"{size} px is too small for {name} (at least {MIN_SIZE[name]})")
    if name in DEFAULT_FREEZE:
        model = MODELS[name](size, outputs, pretrained and load_weights)
        # -1 fixes the default stages of ImageNet's weights; random ones are all trained
        model.freeze((DEFAULT_FREEZE[name] if pretrained else 0) if freeze < 0 else freeze)
    else:
        model = MODELS[name](size, outputs)
    return model.to(memory_format=torch.channels_last)
