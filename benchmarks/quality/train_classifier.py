"""Train the digit classifier whose features score generated images (FD, KID, IS, ...).

    python benchmarks/quality/train_classifier.py --dataset mnist --data-dir /work/shared/data \
        --out scratchgan/gan/metrics/weights/mnist.npz --seed 0 --epochs 4

The network is ``scratchgan.gan.metrics.classifier.DigitClassifier``, trained with
scratchgan's own layers, autograd and Adam: softmax cross-entropy, batch 128,
lr 1e-3 decayed linearly to 1e-5, each training image shifted by a random
offset of up to ``--shift`` pixels (background filled in). After every epoch it
prints the training loss and accuracy and the test accuracy; at the end it
writes the weights with a metadata document (this command, seed, epochs, test
accuracy, SHA-256 of the data, seconds) into the npz. ``--dataset`` takes any
image dataset ``scratchgan.data.load_dataset`` knows (``digits`` needs no
download and is handy for a quick check; ``--limit`` trains on a prefix).
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time

import numpy as np

import scratchgan
from scratchgan import optim
from scratchgan import random as sg_random
from scratchgan.data import load_dataset
from scratchgan.gan.metrics.classifier import (DigitClassifier, cross_entropy, features_and_probs,
                                               save_classifier)


def load_split(dataset: str, split: str, data_dir: str | None):
    """(images, labels, number of classes) of a split of a labelled image dataset."""
    data = load_dataset(dataset, split, data_dir=data_dir)
    if data.kind != "image" or data.labels is None:
        raise SystemExit(f"train_classifier: {dataset!r} is not a labelled image dataset")
    return data.data, data.labels, data.num_classes


def data_checksum(*arrays: np.ndarray) -> str:
    """SHA-256 of the arrays' bytes (C order), one after the other."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(a).tobytes())
    return digest.hexdigest()


def random_shifts(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image (N, C, H, W) moved by its own offset in [-max_shift, max_shift]^2; the
    pixels shifted in take the background value -1."""
    if max_shift == 0:
        return images
    s = max_shift
    padded = np.pad(images, ((0, 0), (0, 0), (s, s), (s, s)), constant_values=-1.0)
    h, w = images.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(2, 3))
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, len(images)))
    return np.ascontiguousarray(windows[np.arange(len(images)), :, dy, dx])


def accuracy(classifier: DigitClassifier, images: np.ndarray, labels: np.ndarray) -> float:
    _, probs = features_and_probs(classifier, images)
    return float(np.mean(probs.argmax(axis=1) == labels))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", help="mnist, fashion-mnist, digits, ...")
    parser.add_argument("--data-dir", help="folder holding the dataset's files (e.g. mnist/*.gz)")
    parser.add_argument("--out", required=True, help="the .npz to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--shift", type=int, default=2, help="largest random shift in pixels")
    parser.add_argument("--limit", type=int, help="train on the first LIMIT images only")
    args = parser.parse_args(argv)

    x_train, y_train, num_classes = load_split(args.dataset, "train", args.data_dir)
    x_test, y_test, _ = load_split(args.dataset, "test", args.data_dir)
    checksum = data_checksum(x_train, y_train, x_test, y_test)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]

    sg_random.manual_seed(args.seed)
    rng = np.random.default_rng([args.seed, 1])
    model = DigitClassifier(channels=x_train.shape[1], num_classes=num_classes)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = len(x_train) // args.batch_size
    schedule = optim.lr_scheduler.LinearLR(opt, end_factor=0.01,
                                           total_iters=steps_per_epoch * args.epochs)
    print(f"{args.dataset}: {len(x_train)} training and {len(x_test)} test images; "
          f"{model.num_parameters()} parameters; {steps_per_epoch} steps per epoch")
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = rng.permutation(len(x_train))
        losses, correct, clock = [], 0, time.perf_counter()
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            x = random_shifts(x_train[idx], args.shift, rng)
            opt.zero_grad()
            logits = model(x)
            loss = cross_entropy(logits, y_train[idx])
            loss.backward()
            opt.step()
            schedule.step()
            losses.append(loss.item())
            correct += int(np.sum(logits.data.argmax(axis=1) == y_train[idx]))
        seconds = time.perf_counter() - clock
        test_acc = accuracy(model, x_test, y_test)
        print(f"epoch {epoch}: loss {np.mean(losses):.4f}, train accuracy "
              f"{correct / (steps_per_epoch * args.batch_size):.4f}, test accuracy {test_acc:.4f} "
              f"({seconds:.0f} s)", flush=True)

    metadata = {
        "command": "python benchmarks/quality/train_classifier.py " + " ".join(argv),
        "dataset": args.dataset, "data_sha256": checksum,
        "data_sha256_of": "the loaded train and test arrays (float32 images in [-1, 1], "
                          "int64 labels), in the order train images, train labels, test "
                          "images, test labels",
        "train_images": len(x_train), "test_images": len(x_test),
        "seed": args.seed, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "shift": args.shift, "test_accuracy": test_acc,
        "train_seconds": round(time.perf_counter() - start, 1),
        "scratchgan_version": scratchgan.__version__, "numpy_version": np.__version__,
    }
    path = save_classifier(model, args.out, metadata)
    print(f"test accuracy {test_acc:.4f}; wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
