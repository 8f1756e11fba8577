"""Graph attention and graph pooling layers (AASIST, RawGAT-ST).

Nodes are feature vectors: a graph is a tensor ``(batch, nodes, dim)`` whose nodes are all
connected. Attention between nodes ``i`` and ``j`` is computed from their element-wise
product, a projection, a ``tanh`` and a learned vector, then normalised with a softmax over
``j`` (optionally divided by a temperature first).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def _xavier_vector(dim: int) -> nn.Parameter:
    weight = nn.Parameter(torch.empty(dim, 1))
    nn.init.xavier_normal_(weight)
    return weight


def _pairwise_products(nodes: Tensor) -> Tensor:
    """Element-wise products of every pair of nodes.

    Shape:
        ``(batch, nodes, dim) -> (batch, nodes, nodes, dim)``.
    """
    return nodes.unsqueeze(2) * nodes.unsqueeze(1)


def _node_norm(norm: nn.BatchNorm1d, nodes: Tensor) -> Tensor:
    # Batch norm over the feature axis, every node of every graph a sample.
    shape = nodes.shape
    return norm(nodes.reshape(-1, shape[-1])).reshape(shape)


class GraphAttention(nn.Module):
    """Graph attention layer over a fully connected graph.

    ``out = SELU(BN(W_a (A x) + W_r x))`` where ``A`` is the row-softmax of the pairwise
    attention scores.

    Args:
        in_dim: Node feature size of the input.
        out_dim: Node feature size of the output.
        temperature: Scores are divided by this before the softmax.
        dropout: Dropout on the input nodes (training only).

    Shape:
        Input ``(batch, nodes, in_dim)``; output ``(batch, nodes, out_dim)``.
    """

    def __init__(
        self, in_dim: int, out_dim: int, *, temperature: float = 1.0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.attn_proj = nn.Linear(in_dim, out_dim)
        self.attn_vector = _xavier_vector(out_dim)
        self.proj_attended = nn.Linear(in_dim, out_dim)
        self.proj_residual = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim)
        self.dropout = nn.Dropout(dropout)
        self.act = nn.SELU()
        self.temperature = float(temperature)

    def attention(self, nodes: Tensor) -> Tensor:
        """Attention weights, each row summing to one.

        Shape:
            ``(batch, nodes, in_dim) -> (batch, nodes, nodes)``.
        """
        scores = torch.tanh(self.attn_proj(_pairwise_products(nodes)))
        scores = torch.matmul(scores, self.attn_vector) / self.temperature
        # softmax over the neighbour axis with the trailing unit axis kept: this is the
        # published layout, and the softmax kernel it selects rounds the same way.
        return torch.softmax(scores, dim=-2).squeeze(-1)

    def forward(self, nodes: Tensor) -> Tensor:
        """Shape: ``(batch, nodes, in_dim) -> (batch, nodes, out_dim)``."""
        nodes = self.dropout(nodes)
        weights = self.attention(nodes)
        out = self.proj_attended(torch.matmul(weights, nodes)) + self.proj_residual(nodes)
        return self.act(_node_norm(self.norm, out))


class HeteroGraphAttention(nn.Module):
    """Heterogeneous graph attention over two node types plus a master node (AASIST's HS-GAL).

    The two graphs are projected to a common space and joined into one graph. Attention
    scores use a separate learned vector for type-A/type-A pairs, type-B/type-B pairs and
    mixed pairs. A master node attends to every node and is updated alongside.

    Args:
        in_dim: Node feature size of both inputs and of the master node.
        out_dim: Node feature size of the outputs.
        temperature: Scores are divided by this before each softmax.
        dropout: Dropout on the joined nodes (training only).

    Shape:
        Inputs ``(batch, n_a, in_dim)``, ``(batch, n_b, in_dim)`` and master
        ``(batch or 1, 1, in_dim)``; outputs ``(batch, n_a, out_dim)``,
        ``(batch, n_b, out_dim)`` and ``(batch, 1, out_dim)``.
    """

    def __init__(
        self, in_dim: int, out_dim: int, *, temperature: float = 1.0, dropout: float = 0.2
    ) -> None:
        super().__init__()
        self.proj_a = nn.Linear(in_dim, in_dim)
        self.proj_b = nn.Linear(in_dim, in_dim)
        self.attn_proj = nn.Linear(in_dim, out_dim)
        self.master_attn_proj = nn.Linear(in_dim, out_dim)
        self.attn_aa = _xavier_vector(out_dim)
        self.attn_bb = _xavier_vector(out_dim)
        self.attn_ab = _xavier_vector(out_dim)
        self.attn_master = _xavier_vector(out_dim)
        self.proj_attended = nn.Linear(in_dim, out_dim)
        self.proj_residual = nn.Linear(in_dim, out_dim)
        self.master_proj_attended = nn.Linear(in_dim, out_dim)
        self.master_proj_residual = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim)
        self.dropout = nn.Dropout(dropout)
        self.act = nn.SELU()
        self.temperature = float(temperature)

    def attention(self, nodes: Tensor, n_a: int) -> Tensor:
        """Attention weights of the joined graph whose first ``n_a`` nodes are of type A.

        Shape:
            ``(batch, nodes, in_dim) -> (batch, nodes, nodes)``.
        """
        hidden = torch.tanh(self.attn_proj(_pairwise_products(nodes)))
        n = nodes.shape[1]
        is_a = torch.arange(n, device=nodes.device) < n_a
        same_a = (is_a.unsqueeze(1) & is_a.unsqueeze(0)).unsqueeze(-1)
        same_b = (~is_a.unsqueeze(1) & ~is_a.unsqueeze(0)).unsqueeze(-1)
        scores = torch.where(
            same_a,
            torch.matmul(hidden, self.attn_aa),
            torch.where(
                same_b, torch.matmul(hidden, self.attn_bb), torch.matmul(hidden, self.attn_ab)
            ),
        )
        return torch.softmax(scores / self.temperature, dim=-2).squeeze(-1)

    def master_attention(self, nodes: Tensor, master: Tensor) -> Tensor:
        """Weights with which the master node attends to each node.

        Shape:
            ``(batch, nodes, in_dim), (batch or 1, 1, in_dim) -> (batch, 1, nodes)``.
        """
        hidden = torch.tanh(self.master_attn_proj(nodes * master))
        scores = torch.matmul(hidden, self.attn_master) / self.temperature
        return torch.softmax(scores, dim=1).transpose(1, 2)

    def forward(self, nodes_a: Tensor, nodes_b: Tensor, master: Tensor) -> tuple[Tensor, ...]:
        """Update both node types and the master node.

        Shape:
            ``(batch, n_a, in_dim), (batch, n_b, in_dim), (batch or 1, 1, in_dim) ->
            (batch, n_a, out_dim), (batch, n_b, out_dim), (batch, 1, out_dim)``.
        """
        n_a = nodes_a.shape[1]
        nodes = torch.cat([self.proj_a(nodes_a), self.proj_b(nodes_b)], dim=1)
        nodes = self.dropout(nodes)
        weights = self.attention(nodes, n_a)
        master_weights = self.master_attention(nodes, master)
        master = self.master_proj_attended(
            torch.matmul(master_weights, nodes)
        ) + self.master_proj_residual(master)
        out = self.proj_attended(torch.matmul(weights, nodes)) + self.proj_residual(nodes)
        out = self.act(_node_norm(self.norm, out))
        return out[:, :n_a], out[:, n_a:], master


def pooled_node_count(n_nodes: int, ratio: float, *, min_nodes: int = 1) -> int:
    """Number of nodes :class:`GraphPool` keeps: ``max(min_nodes, floor(n_nodes * ratio))``."""
    return max(int(n_nodes * ratio), min_nodes)


class GraphPool(nn.Module):
    """Keep the top-scoring nodes of a graph, each scaled by its sigmoid score (gPool).

    Args:
        in_dim: Node feature size.
        ratio: Fraction of nodes kept (rounded down).
        min_nodes: Never keep fewer nodes than this.
        dropout: Dropout on the nodes before scoring (training only).

    Shape:
        Input ``(batch, nodes, in_dim)``; output ``(batch, kept, in_dim)`` with nodes ordered
        by decreasing score.
    """

    def __init__(
        self, in_dim: int, ratio: float, *, min_nodes: int = 1, dropout: float = 0.3
    ) -> None:
        super().__init__()
        self.score = nn.Linear(in_dim, 1)
        self.ratio = float(ratio)
        self.min_nodes = min_nodes
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, nodes: Tensor) -> Tensor:
        """Shape: ``(batch, nodes, in_dim) -> (batch, kept, in_dim)``."""
        scores = torch.sigmoid(self.score(self.dropout(nodes)))
        if torch.jit.is_tracing():
            index = self._traceable_top_index(scores)
        else:
            keep = pooled_node_count(nodes.shape[1], self.ratio, min_nodes=self.min_nodes)
            _, index = torch.topk(scores, keep, dim=1)
        return torch.gather(nodes * scores, 1, index.expand(-1, -1, nodes.shape[-1]))

    def _traceable_top_index(self, scores: Tensor) -> Tensor:
        # Same selection as topk, with the kept count computed by tensor ops so that an
        # exported graph (ONNX) keeps it symbolic in the number of nodes. float64 keeps
        # floor(n * ratio) identical to the Python computation.
        n = torch._shape_as_tensor(scores)[1]
        keep = torch.floor(n.to(torch.float64) * self.ratio).to(torch.int64)
        keep = torch.clamp(keep, min=self.min_nodes)
        order = torch.sort(scores, dim=1, descending=True).indices
        return order.index_select(1, torch.arange(keep))

    def extra_repr(self) -> str:
        """Constructor arguments shown by ``repr``."""
        return f"ratio={self.ratio}, min_nodes={self.min_nodes}"
