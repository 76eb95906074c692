"""CLIP image similarity between screenshots (frontend scoring).

`openai/clip-vit-base-patch32` through transformers by default (any local directory saved
with save_pretrained, or a model in the Hugging Face cache: nothing is downloaded at
scoring time), batched, on the GPU when there is one. Reference embeddings are cached by
the screenshot's hash, so a reference page is embedded once however many answers it is
compared with.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any, Callable

from colbench.defaults import CLIP_MODEL, torch_device
from colbench.errors import ColbenchError




class ClipScorer:
    def __init__(self, model: str = CLIP_MODEL, *, batch_size: int = 16, device: str | None = None):
        self.model_name = model
        self.batch_size = batch_size
        self._device = device
        self._model: Any = None
        self._processor: Any = None
        self._cache: dict[str, Any] = {}
        self._thread: Any = None  # the one thread that runs the model for async callers

    def load(self) -> None:
        if self._model is not None:
            return
        import transformers
        from transformers import CLIPModel

        # The PIL image processor: torchvision has no CPU build here, and asking for the
        # default one makes transformers print a fallback notice.
        CLIPImageProcessor = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
        try:
            self._processor = CLIPImageProcessor.from_pretrained(self.model_name, local_files_only=True)
            self._model = CLIPModel.from_pretrained(self.model_name, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ColbenchError(
                f"the CLIP model {self.model_name} is not available locally; download it once with "
                f"`huggingface-cli download {self.model_name}` (or pass --clip-model with a local directory "
                "saved with save_pretrained)") from exc
        device = self._device or torch_device()
        self._model.to(device).eval()
        self._device = device

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(*args)` (embed or embed_cached) off the event loop, always in the same thread:
        the model's allocations spread over several threads' malloc arenas made memory grow
        with every batch (2.6 MiB per answer scored, against 0.3 MiB from one thread)."""
        if self._thread is None:
            from concurrent.futures import ThreadPoolExecutor

            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="colbench-clip")
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def embed(self, pngs: list[bytes]) -> Any:
        """L2-normalised image embeddings (a torch tensor, one row per image), batched."""
        import torch
        from PIL import Image

        self.load()
        rows = []
        for start in range(0, len(pngs), self.batch_size):
            images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pngs[start:start + self.batch_size]]
            inputs = self._processor(images=images, return_tensors="pt").to(self._device)
            with torch.no_grad():
                out = self._model.get_image_features(**inputs)
            # transformers 5 returns an output object; 4.x returned the tensor itself.
            feats = out if isinstance(out, torch.Tensor) else getattr(out, "image_embeds", None)
            if feats is None:
                feats = out.pooler_output
            rows.append(torch.nn.functional.normalize(feats.float(), dim=-1).cpu())
        return torch.cat(rows) if rows else torch.empty(0)

    def embed_cached(self, pngs: list[bytes]) -> Any:
        import torch

        keys = [hashlib.sha256(p).hexdigest() for p in pngs]
        missing = [(k, p) for k, p in dict(zip(keys, pngs)).items() if k not in self._cache]
        if missing:
            for (k, _), row in zip(missing, self.embed([p for _, p in missing])):
                self._cache[k] = row
        return torch.stack([self._cache[k] for k in keys])

    def similarity(self, pairs: list[tuple[bytes, bytes]]) -> list[float]:
        """Cosine similarity of (candidate, reference) screenshot pairs; references cached."""
        if not pairs:
            return []
        cand = self.embed([c for c, _ in pairs])
        ref = self.embed_cached([r for _, r in pairs])
        return [float(x) for x in (cand * ref).sum(dim=-1).clamp(-1.0, 1.0)]
