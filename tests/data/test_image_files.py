"""Your own images: an .npz file or a folder of PNGs, by name (npz:PATH, folder:PATH)."""
import io
import pickle
import zipfile

import numpy as np
import pytest
from PIL import Image

from scratchgan.data import DataFileError, DatasetNotFoundError, load_dataset
from scratchgan.data.image_files import load_npz_images, load_png_folder


def save_png(path, pixels):
    """A grey (H, W), RGB (H, W, 3) or RGBA (H, W, 4) PNG of uint8 pixels."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8)).save(path)


# -- .npz ------------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["NHW", "NHWC", "NCHW"])
def test_npz_uint8_layouts_become_nchw_in_minus_one_to_one(tmp_path, layout):
    rng = np.random.default_rng(0)
    channels = 1 if layout == "NHW" else 3
    nchw = rng.integers(0, 256, (6, channels, 8, 8), dtype=np.uint8)
    nchw[0, 0, 0, :2] = (0, 255)
    stored = {"NHW": nchw[:, 0], "NHWC": nchw.transpose(0, 2, 3, 1), "NCHW": nchw}[layout]
    np.savez(tmp_path / "x.npz", images=stored)
    images, labels, num_classes = load_npz_images(tmp_path / "x.npz")
    assert images.shape == (6, channels, 8, 8) and images.dtype == np.float32
    np.testing.assert_allclose(images, nchw / 127.5 - 1, atol=1e-6)
    assert (images[0, 0, 0, 0], images[0, 0, 0, 1]) == (-1.0, 1.0)
    assert labels is None and num_classes == 0


def test_npz_floats_in_zero_one_or_minus_one_one(tmp_path):
    unit = np.linspace(0, 1, 2 * 16).reshape(2, 4, 4)
    np.savez(tmp_path / "unit.npz", x=unit)
    np.testing.assert_allclose(load_npz_images(tmp_path / "unit.npz")[0][:, 0], unit * 2 - 1,
                               atol=1e-6)
    signed = (unit * 2 - 1).astype(np.float32)
    np.savez(tmp_path / "signed.npz", signed)
    np.testing.assert_array_equal(load_npz_images(tmp_path / "signed.npz")[0][:, 0], signed)


def test_npz_labels_under_labels_or_y(tmp_path):
    images = np.zeros((3, 4, 4), np.uint8)
    np.savez(tmp_path / "a.npz", images=images, labels=np.array([2, 0, 1]))
    np.savez(tmp_path / "b.npz", x=images, y=np.array([1, 1, 0], np.uint8))
    _, labels, num_classes = load_npz_images(tmp_path / "a.npz")
    assert labels.dtype == np.int64 and labels.tolist() == [2, 0, 1] and num_classes == 3
    _, labels, num_classes = load_npz_images(tmp_path / "b.npz")
    assert labels.tolist() == [1, 1, 0] and num_classes == 2


@pytest.mark.parametrize("arrays, message", [
    ({"images": np.full((2, 4, 4), 1.5)}, r"\['images'\]: float images must lie in \[0, 1\] or "
                                          r"\[-1, 1\]; they span \[1.5, 1.5\]"),
    ({"images": np.full((2, 4, 4), np.nan)}, "NaN or infinite"),
    ({"images": np.zeros((2, 4, 4), np.int64)}, r"uint8 or floating point, got int64 \(convert "),
    ({"images": np.zeros((2, 4, 4, 5), np.uint8)}, r"C = 1 or 3 channels; got shape \(2, 4, 4, 5\)"),
    ({"images": np.zeros((2, 3, 4, 3), np.uint8)}, r"cannot tell whether images of shape "
                                                   r"\(2, 3, 4, 3\) are \(N, C, H, W\)"),
    ({"images": np.zeros((0, 4, 4), np.uint8)}, "holds no images"),
    ({"pixels": np.zeros((2, 4, 4)), "other": np.zeros(2)}, r"no image array; store it under "
                                                           r"the key 'images' or 'x' \(the archive "
                                                           r"holds 'pixels', 'other'\)"),
    ({"labels": np.zeros(2, int)}, r"no image array; .* \(the archive holds 'labels'\)"),
    ({"images": np.zeros(4)}, r"\['images'\]: images must be shaped .* got shape \(4,\)"),
    ({"images": np.zeros((2, 4, 4), bool)}, r"uint8 or floating point, got bool"),
    ({"images": np.zeros((2, 4, 4)), "labels": np.zeros(3, int)}, r"\['labels'\]: labels must "
                                                                   r"be shaped \(2,\), one per image"),
    ({"images": np.zeros((2, 4, 4)), "y": np.array([0.0, 1.0])}, "labels must be integers"),
    ({"images": np.zeros((2, 4, 4)), "y": np.array([0, -1])}, "labels must be >= 0, found -1"),
    ({"images": np.zeros((2, 4, 4)), "y": np.zeros((2, 1), int)}, r"shaped \(2,\), one per image; "
                                                                  r"got \(2, 1\)"),
    ({"images": np.zeros((2, 4, 4)), "y": np.zeros(2, int), "num_classes": np.array([1, 2])},
     r"\['num_classes'\]: must be one integer from 1 to 10000"),
])
def test_npz_errors_name_the_file_and_key(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"bad\.npz.*" + message):
        load_npz_images(tmp_path / "bad.npz")


def test_npz_that_is_not_an_npz(tmp_path):
    np.save(tmp_path / "single.npy", np.zeros((2, 4, 4)))
    with pytest.raises(DataFileError, match=r"single\.npy: holds a single \.npy array"):
        load_npz_images(tmp_path / "single.npy")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(DataFileError, match=r"text\.npz: is not an \.npz file \(a zip of NumPy "
                                            r"arrays\); save one with np\.savez"):
        load_npz_images(tmp_path / "text.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DataFileError, match=r"empty\.npz: is not an \.npz file"):
        load_npz_images(tmp_path / "empty.npz")
    (tmp_path / "not_a_zip.npz").write_bytes(b"PK\x03\x04 nope")
    with pytest.raises(DataFileError, match=r"not_a_zip\.npz: cannot be read as an \.npz archive"):
        load_npz_images(tmp_path / "not_a_zip.npz")
    (tmp_path / "folder.npz").mkdir()
    with pytest.raises(DataFileError, match=r"folder\.npz: is a folder, not an \.npz file"):
        load_npz_images(tmp_path / "folder.npz")
    with pytest.raises(DatasetNotFoundError, match=r"missing\.npz: no such file"):
        load_npz_images(tmp_path / "missing.npz")


@pytest.mark.parametrize("members", [{}, {"readme.txt": b"images, one day"}])
def test_a_zip_without_arrays_is_named(tmp_path, members):
    with zipfile.ZipFile(tmp_path / "bare.npz", "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(DataFileError, match=r"bare\.npz: holds no arrays; expected 'images' "
                                            r"\(or 'x'\), and optionally 'labels'"):
        load_npz_images(tmp_path / "bare.npz")


def _npz_member(path, name, data):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, data)


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (_npy(np.array([None, 1], dtype=object)),
     r"\['images'\]: holds Python objects \(dtype object\), which are never unpickled; store "
     r"numbers"),
    (_npy(np.zeros((2, 4, 4), np.uint8))[:-5],
     r"\['images'\]: truncated or damaged \(EOF: reading array data"),
    (b"\x93NUMPY\x01\x00\x10\x00{'descr': zz}   \n", r"\['images'\]: not a readable \.npy array"),
    (b"\x93NUMPY\x02\x00" + (30_000).to_bytes(4, "little") + b" " * 30_000,
     r"\['images'\]: not a readable \.npy array \(bad or oversized header\)"),
])
def test_a_bad_array_is_named_and_unpickling_never_suggested(tmp_path, data, message):
    """numpy's own messages for these suggest allow_pickle=True: never passed on."""
    _npz_member(tmp_path / "bad.npz", "images.npy", data)
    with pytest.raises(DataFileError, match=r"bad\.npz " + message) as caught:
        load_npz_images(tmp_path / "bad.npz")
    assert "pickle=" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_text_or_pickle_file_never_suggests_unpickling(tmp_path):
    (tmp_path / "notes.npz").write_text("images: see the folder")
    (tmp_path / "pickled.npz").write_bytes(pickle.dumps({"images": [1, 2]}))
    for name in ("notes.npz", "pickled.npz"):
        with pytest.raises(DataFileError, match="is not an .npz file") as caught:
            load_npz_images(tmp_path / name)
        assert "allow_pickle" not in str(caught.value)


# -- .npz labels: every class 0..K-1 has images --------------------------------------------------

@pytest.mark.parametrize("labels, extra, message", [
    ([0, 1000, 0, 1000], {}, r"labels leave classes 1\.\.999 with no images \(K = 1001 from the "
                            r"largest label\): renumber the 2 classes present as 0\.\.1$"),
    ([0, 2, 3, 6], {}, r"labels leave classes 1, 4\.\.5 with no images \(K = 7 "),
    ([0, 1, 1, 0], {"num_classes": np.array(5)},
     r"labels leave classes 2\.\.4 with no images \(num_classes = 5\): renumber the 2 classes "
     r"present as 0\.\.1 and give num_classes = 2$"),
    ([0, 1, 2, 5], {"num_classes": np.array(3)}, r"labels must lie in 0\.\.2 \(num_classes = 3\), "
                                                 r"found 5"),
])
def test_labels_that_leave_a_class_without_images_are_refused(tmp_path, labels, extra, message):
    """A conditional model draws every class 0..K-1: one with no image has nothing behind it."""
    np.savez(tmp_path / "gaps.npz", images=np.zeros((4, 4, 4), np.uint8), labels=np.array(labels),
             **extra)
    with pytest.raises(DataFileError, match=r"gaps\.npz \['labels'\]: " + message):
        load_npz_images(tmp_path / "gaps.npz")


def test_many_empty_classes_are_summed_up(tmp_path):
    np.savez(tmp_path / "even.npz", images=np.zeros((50, 4, 4), np.uint8),
             labels=np.arange(50) * 2)
    with pytest.raises(DataFileError, match=r"leave classes 1, 3, 5, 7, 9, \.\.\. \(49 in all\) "
                                            r"with no images \(K = 99 "):
        load_npz_images(tmp_path / "even.npz")


def test_a_given_num_classes_with_every_class_present_is_kept(tmp_path):
    np.savez(tmp_path / "k.npz", images=np.zeros((4, 4, 4), np.uint8),
             labels=np.array([0, 2, 1, 0]), num_classes=np.array(3))
    assert load_npz_images(tmp_path / "k.npz")[2] == 3


# -- folders of PNGs ---------------------------------------------------------------------------

def test_a_folder_of_grey_pngs_without_labels(tmp_path):
    save_png(tmp_path / "b.png", [[0, 255], [51, 0]])
    save_png(tmp_path / "a.png", [[255, 0], [0, 0]])
    (tmp_path / "notes.txt").write_text("ignored")
    images, labels, num_classes = load_png_folder(tmp_path)
    assert images.shape == (2, 1, 2, 2) and images.dtype == np.float32
    np.testing.assert_allclose(images[:, 0], [[[1, -1], [-1, -1]], [[-1, 1], [-0.6, -1]]],
                               atol=1e-6)
    assert labels is None and num_classes == 0


def test_class_subfolders_give_labels_in_numeric_order(tmp_path):
    for label, count in (("2", 1), ("10", 2), ("0", 1)):
        for i in range(count):
            save_png(tmp_path / label / f"{i}.png", np.full((3, 3, 3), int(label)))
    images, labels, num_classes = load_png_folder(tmp_path)
    assert images.shape == (4, 3, 3, 3) and num_classes == 3
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 2]
    np.testing.assert_allclose(images[:, 0, 0, 0], np.array([0, 2, 10, 10]) / 127.5 - 1, atol=1e-6)


def test_class_names_that_are_words_sort_by_name(tmp_path):
    save_png(tmp_path / "dog" / "x.png", np.zeros((2, 2)))
    save_png(tmp_path / "cat" / "x.png", np.full((2, 2), 255))
    images, labels, _ = load_png_folder(tmp_path)
    assert labels.tolist() == [0, 1] and images[0].max() == 1.0


def test_an_opaque_alpha_channel_is_dropped_a_transparent_one_refused(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 255
    save_png(tmp_path / "ok" / "a.png", rgba)
    images, _, _ = load_png_folder(tmp_path / "ok")
    assert images.shape == (1, 3, 2, 2) and images[0, 0].min() == 1 and images[0, 1].max() == -1
    rgba[0, 0, 3] = 0
    save_png(tmp_path / "see-through" / "a.png", rgba)
    with pytest.raises(DataFileError, match=r"see-through/a\.png: has transparent pixels"):
        load_png_folder(tmp_path / "see-through")


@pytest.mark.parametrize("files, message", [
    ({"a.png": np.zeros((4, 4)), "b.png": np.zeros((4, 5))},
     r"b\.png: shape \(C, H, W\) = \(1, 4, 5\) differs from .*a\.png's \(1, 4, 4\)"),
    ({"a.png": np.zeros((4, 4)), "b.png": np.zeros((4, 4, 3))},
     r"b\.png: shape \(C, H, W\) = \(3, 4, 4\) differs"),
    ({"a.png": np.zeros((2, 2)), "cls/b.png": np.zeros((2, 2))},
     r"holds PNGs both directly and in subfolders \(cls\)"),
    ({"notes.txt": None}, r"no \.png files in it or in its subfolders"),
])
def test_folder_errors_name_the_file(tmp_path, files, message):
    for name, pixels in files.items():
        if pixels is None:
            (tmp_path / name).write_text("x")
        else:
            save_png(tmp_path / name, pixels)
    with pytest.raises(DataFileError, match=message):
        load_png_folder(tmp_path)


def test_a_file_given_for_a_folder_is_named(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(DataFileError, match=r"a\.png: is a file, not a folder"):
        load_png_folder(tmp_path / "a.png")
    with pytest.raises(DatasetNotFoundError, match=r"nowhere: no such folder"):
        load_png_folder(tmp_path / "nowhere")


def test_a_broken_png_is_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(DataFileError, match=r"broken\.png: cannot be read as a PNG"):
        load_png_folder(tmp_path)


# -- by name ------------------------------------------------------------------------------------

def test_npz_and_folder_datasets_by_name(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "mine.npz", images=images, labels=np.arange(20) % 4)
    ds = load_dataset(f"npz:{tmp_path / 'mine.npz'}")
    assert ds.data.shape == (20, 1, 28, 28) and ds.num_classes == 4
    assert (ds.kind, ds.name) == ("image", f"npz:{tmp_path / 'mine.npz'}")
    test = load_dataset(f"npz:{tmp_path / 'mine.npz'}", "test")
    np.testing.assert_array_equal(test.data, ds.data)
    subset = load_dataset(f"npz:{tmp_path / 'mine.npz'}", n=5, seed=1)
    assert subset.data.shape == (5, 1, 28, 28) and subset.labels.shape == (5,)
    save_png(tmp_path / "pngs" / "a.png", np.zeros((32, 32, 3)))
    folder = load_dataset(f"folder:{tmp_path / 'pngs'}")
    assert folder.data.shape == (1, 3, 32, 32) and folder.labels is None


def test_unknown_names_list_the_datasets_and_the_path_forms(tmp_path):
    with pytest.raises(ValueError, match=r"known datasets: .*ring8, or npz:FILE\.npz \(images "
                                         r"in an \.npz file\) or folder:DIR \(a folder of PNGs\)"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match=f"for a folder of PNGs, name it folder:{tmp_path}; for "
                                         "the files of mnist, .* give the folder as data_dir"):
        load_dataset(str(tmp_path))
    (tmp_path / "mine.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=f"for an .npz file, name it npz:{tmp_path / 'mine.npz'}"):
        load_dataset(str(tmp_path / "mine.npz"))
    with pytest.raises(ValueError, match="dataset 'npz:': give a path after 'npz:'"):
        load_dataset("npz:")
    with pytest.raises(DatasetNotFoundError, match="nowhere: no such folder"):
        load_dataset(f"folder:{tmp_path / 'nowhere'}")
