"""2-D residual block of the AASIST / RawGAT-ST spectro-temporal encoder."""

from __future__ import annotations

from torch import Tensor, nn


class ResidualBlock2d(nn.Module):
    """``maxpool_(1,3)(conv2(SELU(BN(conv1(x)))) + shortcut(x))``.

    ``conv1`` has a (2, 3) kernel padded (1, 1), ``conv2`` a (2, 3) kernel padded (0, 1), so
    the frequency size is preserved; the shortcut is a (1, 3) convolution when the channel
    count changes and the identity otherwise. The max-pool divides the time axis by 3.

    Note:
        The published AASIST and RawGAT-ST blocks also hold a pre-activation batch norm
        (``bn1``) whose output is computed and then discarded (``conv1`` is applied to the
        block input). It has no effect on the output, so it is not part of this module; the
        checkpoint adapters in :mod:`voxlab.models.checkpoints` drop it on import.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        projection_shortcut: Use the (1, 3) convolution shortcut. Default: only when the
            channel count changes. RawGAT-ST's first block passes ``False`` with a single
            input channel, which is then broadcast over the output channels.

    Shape:
        Input ``(batch, in_channels, freq, time)``; output
        ``(batch, out_channels, freq, time // 3)``.
    """

    def __init__(
        self, in_channels: int, out_channels: int, *, projection_shortcut: bool | None = None
    ) -> None:
        super().__init__()
        if projection_shortcut is None:
            projection_shortcut = in_channels != out_channels
        if not projection_shortcut and in_channels not in (1, out_channels):
            raise ValueError(
                f"an identity shortcut needs 1 or {out_channels} input channels, got {in_channels}"
            )
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=(2, 3), padding=(1, 1))
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = nn.SELU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=(2, 3), padding=(0, 1))
        self.shortcut: nn.Module = (
            nn.Conv2d(in_channels, out_channels, kernel_size=(1, 3), padding=(0, 1))
            if projection_shortcut
            else nn.Identity()
        )
        self.pool = nn.MaxPool2d((1, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, in_ch, freq, time) -> (batch, out_ch, freq, time // 3)``."""
        out = self.conv2(self.act(self.norm(self.conv1(x))))
        return self.pool(out + self.shortcut(x))
