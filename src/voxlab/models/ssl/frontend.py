"""The SSL front end: a ``transformers`` wav2vec 2.0 / XLS-R / WavLM / HuBERT encoder.

``transformers`` is imported only when a front end is built (``pip install 'voxlab[ssl]'``).
The waveform goes in as it is: no normalisation, no padding mask, no masking, matching the
official SSL countermeasures (fairseq ``extract_features(mask=False, features_only=True)``).
One official quirk is deliberately not copied: their ``extract_feat`` switches the encoder
to train mode (dropout on) when the input's dtype or device differs from the model's;
here the mode is only what ``.train()``/``.eval()`` set.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from voxlab.errors import ConfigError
from voxlab.models.ssl.config import SSLFrontendConfig


def _transformers_model(config: SSLFrontendConfig) -> nn.Module:
    try:
        import transformers
    except ImportError as exc:  # pragma: no cover - the dev/ssl extras install it
        raise ConfigError(
            "SSL front ends need the `transformers` package: pip install 'voxlab[ssl]'"
        ) from exc
    classes = {
        "wav2vec2": transformers.Wav2Vec2Model,
        "wavlm": transformers.WavLMModel,
        "hubert": transformers.HubertModel,
    }
    return classes[config.model_type](config.to_transformers())


class SSLFrontend(nn.Module):
    """A self-supervised speech encoder returning frame features.

    Args:
        config: The encoder's architecture.

    Shape:
        Input ``(batch, samples)`` float waveform at 16 kHz (a trailing singleton axis is
        dropped); :meth:`forward` returns ``(batch, frames, hidden_size)``, the last layer
        after the encoder's final LayerNorm (fairseq ``x``, ``transformers``
        ``last_hidden_state``); :meth:`layer_outputs` returns every transformer layer's
        output before that LayerNorm, ``(num_hidden_layers, batch, frames, hidden_size)``.
    """

    def __init__(self, config: SSLFrontendConfig | None = None) -> None:
        super().__init__()
        self.config = config or SSLFrontendConfig()
        self.model = _transformers_model(self.config)

    @staticmethod
    def _as_batch(waveform: Tensor) -> Tensor:
        if waveform.ndim == 3 and waveform.shape[-1] == 1:
            waveform = waveform.squeeze(-1)
        if waveform.ndim != 2:
            raise ConfigError(
                "SSL front end expects waveforms (batch, samples), got shape "
                f"{tuple(waveform.shape)}"
            )
        return waveform

    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, samples) -> (batch, frames, hidden_size)``."""
        return self.model(self._as_batch(waveform)).last_hidden_state

    def layer_outputs(self, waveform: Tensor) -> Tensor:
        """Every transformer layer's output, before the final encoder LayerNorm.

        These are fairseq's ``layer_results`` (what XLSR-SLS reads). They are collected with
        forward hooks, so they do not depend on how a ``transformers`` version fills
        ``hidden_states`` (5.x keeps the last layer raw; 4.x's stable-layer-norm encoder
        replaced it with the normalised output).

        Shape:
            ``(batch, samples) -> (num_hidden_layers, batch, frames, hidden_size)``.
        """
        outputs: list[Tensor] = []

        def keep(_module: nn.Module, _inputs: tuple, output: Tensor | tuple) -> None:
            outputs.append(output[0] if isinstance(output, tuple) else output)

        handles = [layer.register_forward_hook(keep) for layer in self.model.encoder.layers]
        try:
            self.model(self._as_batch(waveform))
        finally:
            for handle in handles:
                handle.remove()
        return torch.stack(outputs)
