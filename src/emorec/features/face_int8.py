"""The shipped face CNNs as int8 graphs: static post-training quantisation (ONNX Runtime, QDQ format).

The float32 ONNX graph of a face CNN with its mirror-image view (what ``face.cnn`` runs, see
:func:`emorec.features.face._face_cnn_session`) has its convolutions, ReLUs and max-pooling quantised, weights per output channel in int8 and
activations in uint8 (pooling, the classifier and the softmax stay float32, so probabilities still sum to 1), ranges calibrated on FER2013 training faces (min/max over the calibration batches; Jacob et al. 2018,
"Quantization and training of neural networks for efficient integer-arithmetic-only inference", section 3). On this
2-core CPU the ensemble then costs 3.2x less per face; the accuracy is reported next to the float32 network's in
``docs/results.md`` (``emorec evaluate --int8``).

The int8 graph ships in the package next to the weights (``emorec/weights/<weights stem>_int8.onnx``; ONNX is a
protobuf, read without executing code), built by ``emorec quantize-face``. It records the SHA-256 digest of the
safetensors it was made from; a graph that does not match the installed weights is never used (float32 then runs).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["int8_graph_path", "int8_session", "quantize_face_cnn"]

_DIGEST_KEY = "emorec_source_weights_digest"


def int8_graph_path(network: str = "ensemble") -> Path:
    """Where the int8 graph of a shipped face CNN (``network``: a key of :data:`emorec.features.face.FACE_CNN_WEIGHTS`)
    lives in the package; it may not exist."""
    from emorec.features.face import FACE_CNN_WEIGHTS
    from emorec.models.weights import shipped_path

    return shipped_path(Path(FACE_CNN_WEIGHTS[network]).stem + "_int8.onnx")


def _metadata(path: Path) -> dict[str, str]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


@lru_cache(maxsize=2)
def int8_session(network: str = "ensemble"):
    """The int8 graph of a shipped face CNN (inputs ``x`` (N, 1, 48, 48) normalised faces; outputs ``embedding``
    (N, 256 × networks), ``probs`` (N, 7) averaged over each face and its mirror image) as an ONNX Runtime session, or
    None when the package has no int8 graph for these weights (another digest, or not built, or ``network`` is the path of a
    user's weights)."""
    import onnxruntime as ort

    from emorec.features.base import ort_session_options
    from emorec.features.face import FACE_CNN_WEIGHTS
    from emorec.models.weights import shipped_path, weights_digest

    if network not in FACE_CNN_WEIGHTS:
        return None
    path = int8_graph_path(network)
    if not path.is_file():
        return None
    session = ort.InferenceSession(str(path), ort_session_options(False), providers=["CPUExecutionProvider"])
    made_from = session.get_modelmeta().custom_metadata_map.get(_DIGEST_KEY)
    if made_from != weights_digest(str(shipped_path(FACE_CNN_WEIGHTS[network]))):
        return None
    return session


def quantize_face_cnn(network: str, calibration: np.ndarray, out: str | Path, description: str = "") -> Path:
    """Quantise a shipped face CNN (mirror-image view included) to an int8 QDQ graph and write it to ``out``.

    Parameters
    ----------
    network : {"ensemble", "distilled"}
    calibration : (N, 48, 48) np.ndarray of uint8
        Grey training faces whose activations set the uint8 ranges (a few hundred; never test images).
    out : str or Path
        The ONNX file to write (``int8_graph_path(network)`` to ship it).
    description : str
        Where the calibration faces come from; stored in the graph's metadata.

    Returns
    -------
    Path of the written graph.

    Raises
    ------
    RuntimeError
        The float32 graph cannot be exported (no writable cache folder).
    """
    import tempfile

    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from emorec.features.face import FACE_CNN_WEIGHTS, _face_cnn, _face_cnn_session, normalise_faces
    from emorec.models.weights import shipped_path, weights_digest

    _, _, flip, _ = _face_cnn(network)
    session = _face_cnn_session(flip, 0, network)
    if session is None:
        raise RuntimeError(f"face CNN {network}: the float32 ONNX graph could not be exported")
    x = normalise_faces(calibration)

    class Batches(CalibrationDataReader):
        def __init__(self):
            self.batches = iter([{"x": x[i : i + 64]} for i in range(0, len(x), 64)])

        def get_next(self):
            return next(self.batches, None)

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / "int8.onnx"
        quantize_static(session._model_path, str(staged), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv", "Relu", "MaxPool"])
        model = onnx.load(str(staged))
    meta = {_DIGEST_KEY: weights_digest(str(shipped_path(FACE_CNN_WEIGHTS[network]))), "emorec_network": network,
            "emorec_views": "mirror" if flip else "none", "emorec_calibration": description or f"{len(x)} faces",
            "emorec_quantisation": "static QDQ of the convolutions, ReLUs and max-pooling: weights int8 per channel, activations uint8, min/max calibration"}
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(out))
    return out
