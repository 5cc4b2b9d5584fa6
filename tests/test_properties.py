"""Property-based tests (hypothesis, fixed seeds) of the parsers and the store, and a bounded fuzz run over byte
mutations of the bundled clips (issue 21's harness): whatever the input, emorec either reads it or raises one of its own
errors naming the file — never another exception."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emorec.clip import Record
from emorec.errors import DatasetError, EmorecError
from emorec.store import FeatureStore

DATA = Path(__file__).parent / "data"
FAST = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

arrays = hnp.arrays(dtype=st.sampled_from([np.float32, np.float64, np.int16, np.int64, np.uint8, np.bool_]),
                    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))  # NaN and inf included: stored as they are
json_values = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12) | st.floats(allow_nan=False, allow_infinity=False),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


@FAST
@given(data=st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), arrays, min_size=1, max_size=4),
       meta=st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_store_round_trips_any_record_exactly(tmp_path_factory, data, meta):
    store = FeatureStore(tmp_path_factory.mktemp("prop_store"))
    key = "ab" + "0" * 38
    assert not store.has(key)
    store.save(key, Record(data, meta), {"extractor": "x"})
    assert store.has(key)
    back = store.load(key)
    assert set(back.arrays) == set(data) and back.meta == json.loads(json.dumps(meta))
    for k, v in data.items():
        assert back.arrays[k].dtype == v.dtype and back.arrays[k].shape == v.shape
        np.testing.assert_array_equal(back.arrays[k], v)


@FAST
@given(fail_after=st.integers(0, 3))
def test_an_interrupted_write_leaves_no_entry_and_no_temporary_file(tmp_path_factory, fail_after):
    """A write that dies part-way (here: the array writer raises after some bytes) leaves nothing behind."""
    store = FeatureStore(tmp_path_factory.mktemp("prop_store"))
    key = "cd" + "1" * 38
    import emorec.store.store as mod

    original = mod.np.savez_compressed

    def dying(fh, **arrays):
        fh.write(b"x" * fail_after)
        raise KeyboardInterrupt

    mod.np.savez_compressed = dying
    try:
        with pytest.raises(KeyboardInterrupt):
            store.save(key, Record({"a": np.zeros(3)}, {}), {})
    finally:
        mod.np.savez_compressed = original
    assert not store.has(key) and not list(store.root.rglob(".tmp-*")) and store.cards() == []


@FAST
@given(a=st.dictionaries(st.sampled_from(["rate", "size", "views", "model"]), st.integers(0, 100) | st.text(max_size=5), max_size=4),
       b=st.dictionaries(st.sampled_from(["rate", "size", "views", "model"]), st.integers(0, 100) | st.text(max_size=5), max_size=4))
def test_store_keys_depend_on_parameters_not_on_their_order(a, b):
    from emorec.features.base import Extractor

    class Toy(Extractor):
        name, version, needs = "toy", "1", "audio"

        def __init__(self, params):
            self._p = params

        def params(self):
            return self._p

    key_a = Toy(a).key("media")
    assert key_a == Toy(dict(reversed(list(a.items())))).key("media")  # order of the parameters does not matter
    assert (key_a == Toy(b).key("media")) == (a == b)
    assert key_a != Toy(a).key("other media") and len(key_a) == 40


@FAST
@given(parts=st.lists(st.integers(0, 99), min_size=7, max_size=7), junk=st.sampled_from(["", "x", "-", "--1"]))
def test_ravdess_names_parse_or_are_named_as_wrong(tmp_path_factory, parts, junk):
    from emorec.data.ravdess import load_ravdess

    root = tmp_path_factory.mktemp("rav")
    name = "-".join(f"{p:02d}" for p in parts) + junk
    (root / "Actor_01").mkdir()
    (root / "Actor_01" / f"{name}.wav").write_bytes(b"")
    try:
        table = load_ravdess(root, speech_only=False)
    except DatasetError as exc:
        assert name in str(exc) or "no RAVDESS" in str(exc)
        return
    assert not junk and 1 <= parts[2] <= 8 and 1 <= parts[6] <= 24 and len(table) == 1 and table.actor.iloc[0] == parts[6]


@FAST
@given(text=st.text(max_size=80))
def test_transcript_normalisation_never_fails(text):
    from emorec.features.text import normalise_words

    words = normalise_words(text)
    assert all(w and not any(c.isspace() for c in w) for w in words)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(clip=st.sampled_from(["talking_head.mp4", "03-01-05-02-01-01-01.flac", "mead_happy_noaudio.mp4"]),
       cut=st.floats(0.0, 1.0), flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 7)), max_size=12))
def test_fuzz_mutated_clips_are_read_or_refused_with_emorec_errors(tmp_path_factory, clip, cut, flips):
    """Random truncation and bit flips of real clips (a bounded, seeded fuzz run): probing, decoding the audio and the
    first frames either succeed or raise an EmorecError — never a library exception or a crash."""
    import warnings

    from emorec.io.media import iter_video_frames, load_audio, probe

    data = bytearray((DATA / clip).read_bytes())
    data = data[: max(0, int(len(data) * cut))] if cut < 0.98 else data
    for where, bit in flips:
        if data:
            data[min(len(data) - 1, int(where * len(data)))] ^= 1 << bit
    path = tmp_path_factory.mktemp("fuzz") / clip
    path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            info = probe(path)
            if info.has_audio:
                load_audio(path)
            if info.has_video:
                for k, _ in iter_video_frames(path, 10.0, 160):
                    if k > 5:
                        break
        except EmorecError as exc:
            assert str(path) in str(exc) or path.name in str(exc)
    shutil.rmtree(path.parent, ignore_errors=True)
