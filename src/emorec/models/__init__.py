"""emorec's models, registered by name (timm's habit): :func:`create_model`, :func:`load_pretrained`, :func:`list_models`.

Importing this package registers every shipped family; a new family is one
module that calls :func:`register_model`, plus its import below. Models depend
on torch and NumPy only (the import contract in ``pyproject.toml``).
"""

# importing these modules registers their models
from emorec.models import amcm_cmtam, amh, face_cnn, fer_xception, late_mean, masked_pretrain, tam_ulag, tcn_gated, text_emotion, voice_probe, voice_tcn  # noqa: F401
from emorec.models._registry import MODELS, ModelInfo, create_model, list_models, load_pretrained, model_info, register_model

__all__ = ["MODELS", "ModelInfo", "create_model", "list_models", "load_pretrained", "model_info", "register_model"]
