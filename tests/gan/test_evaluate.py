"""Scoring generators: mixtures, image metrics on ideal and collapsed generators, checkpoints."""
import json

import numpy as np
import pytest

from scratchgan.data import RING8_CENTRES, RING8_STD, load_dataset
from scratchgan.gan.config import TrainConfig
from scratchgan.gan.evaluate import (evaluate, evaluate_generator, format_table, generate_samples,
                                     image_reference, write_json_atomically)
from scratchgan.gan.build import build_trainer

IMAGE_KEYS = {"fd", "is_mean", "is_std", "kid_mean", "kid_std", "precision", "recall",
              "classes_covered", "num_classes", "class_histogram", "max_class_share",
              "min_class_share", "classifier", "reference_size"}


@pytest.fixture(scope="module")
def digits_reference():
    return image_reference("digits", n=300)


@pytest.fixture(scope="module")
def real_digits():
    return load_dataset("digits", "train", seed=7, n=300).data


@pytest.fixture(scope="module")
def real_result(digits_reference, real_digits):
    """The scores of an ideal generator: real images, not those of the reference."""
    return evaluate_generator(lambda z, labels: real_digits[:len(z)], "digits", n=300, nz=4,
                              batch_size=300, reference=digits_reference)


def test_generated_labels_are_balanced_and_the_noise_follows_the_seed():
    seen = []

    def generate(z, labels):
        seen.append(z)
        return labels.astype(np.float64)[:, None]
    labels = generate_samples(generate, 1003, nz=5, num_classes=10, seed=1, batch_size=100)[:, 0]
    assert sorted(np.bincount(labels.astype(int))) == [100] * 7 + [101] * 3
    assert seen[0].shape == (100, 5) and seen[0].dtype == np.float32
    generate_samples(generate, 1003, nz=5, num_classes=10, seed=1, batch_size=100)
    np.testing.assert_array_equal(seen[11], seen[0])


def test_a_generator_drawing_the_mixture_captures_every_mode():
    rng = np.random.default_rng(0)

    def generate(z, labels):
        modes = rng.integers(0, 8, len(z))
        return RING8_CENTRES[modes] + RING8_STD * rng.standard_normal((len(z), 2))
    result = evaluate_generator(generate, "ring8", n=2500, nz=2)
    assert result["kind"] == "points" and result["modes_captured"] == 8
    assert result["high_quality_fraction"] > 0.98 and abs(result["reverse_kl"]) < 0.01
    assert "modes captured        8 / 8" in format_table(result)


def test_real_images_score_like_the_data(real_result):
    assert IMAGE_KEYS <= set(real_result) and real_result["classifier"] == "mnist"
    assert real_result["reference_size"] == 300 and real_result["n"] == 300
    assert real_result["classes_covered"] == 10 and sum(real_result["class_histogram"]) == 300
    assert real_result["precision"] > 0.8 and real_result["recall"] > 0.8
    assert real_result["is_mean"] > 5 and abs(real_result["kid_mean"]) < 0.05
    assert json.loads(json.dumps(real_result)) == real_result  # plain JSON types


def test_a_collapsed_generator_covers_one_class(digits_reference, real_digits, real_result):
    def generate(z, labels):  # every sample is the same digit image
        return np.repeat(real_digits[:1], len(z), axis=0)
    result = evaluate_generator(generate, "digits", n=100, nz=4, reference=digits_reference)
    assert result["classes_covered"] == 1 and result["max_class_share"] == 1.0
    assert result["is_mean"] == pytest.approx(1.0, abs=1e-6) and result["recall"] < 0.05
    assert result["fd"] > 10 * real_result["fd"]
    assert result["kid_mean"] > 10 * abs(real_result["kid_mean"])


def test_evaluate_a_checkpoint(tmp_path):
    trainer = build_trainer(TrainConfig(dataset="ring8", steps=1, batch_size=16, progress=False,
                                  out=str(tmp_path / "run")))
    trainer.train_step()
    path = trainer.save_checkpoint()
    result = evaluate(path, n=500)
    assert result["checkpoint"] == str(path) and result["step"] == 1 and result["n"] == 500
    assert result["dataset"] == "ring8" and result["num_modes"] == 8


def test_errors_are_named(digits_reference):
    with pytest.raises(ValueError, match="n >= 10"):
        evaluate_generator(lambda z, y: z, "ring8", n=5, nz=2)
    with pytest.raises(ValueError, match="built for 'digits', not 'mnist'"):
        evaluate_generator(lambda z, y: z, "mnist", n=10, nz=2, reference=digits_reference)
    with pytest.raises(ValueError, match="no classifier scores dataset 'cifar10'"):
        evaluate_generator(lambda z, y: z, "cifar10", n=10, nz=2)


def test_json_is_written_atomically(tmp_path):
    path = write_json_atomically(tmp_path / "sub" / "eval.json", {"fd": 1.5})
    assert json.loads(path.read_text()) == {"fd": 1.5}
    assert [p.name for p in path.parent.iterdir()] == ["eval.json"]
