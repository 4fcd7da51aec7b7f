"""The sections of a profile, as frozen dataclasses: every field's default is the paper's value
(``ssb/config.py`` loads, validates and hashes them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CorpusConfig:
    """Where the pre-training paragraphs come from and how many are used."""

    source: str = "local"  # "local": a file under the data directory; "hub": the HF hub
    path: str = "wikipedia/enwiki_paragraphs.jsonl.xz"  # relative to the data directory
    hub_name: str = "wikimedia/wikipedia"
    hub_config: str = "20231101.en"
    n_train: int = 90_000
    n_valid: int = 2_000
    min_words: int = 5  # paragraphs with fewer whitespace words are skipped
    seed: int = 0  # the shuffle that picks the train and validation paragraphs


@dataclass(frozen=True)
class TokenizerConfig:
    kind: str = "bert-base-uncased"  # or "wordpiece": trained on the training paragraphs
    vocab_size: int = 30_522


@dataclass(frozen=True)
class BackboneConfig:
    n_layers: int = 6
    hidden: int = 768
    n_heads: int = 12
    intermediate: int = 3_072
    max_len: int = 128
    hidden_dropout: float = 0.1
    attention_dropout: float = 0.1
    symmetric_init: bool = False  # every head of a layer starts as a copy of head 0
    seed: int = 0  # the weights' initialisation, and the order of the training paragraphs unless data_seed says
    # the order of the training paragraphs: shuffled by this seed before the Trainer's length-grouped sampler
    # permutes them (by seed); -1: not shuffled, the order of seed alone (every backbone trained before it)
    data_seed: int = -1


@dataclass(frozen=True)
class PretrainConfig:
    """MLM pre-training (AdamW, linear decay to zero, weight decay as L2; the paper: no warm-up)."""

    epochs: float = 50.0
    max_steps: int = 0  # > 0 overrides epochs
    lr: float = 5.5e-5
    weight_decay: float = 1e-2
    batch_size: int = 32
    mlm_probability: float = 0.15
    save_steps: int = 500
    eval_steps: int = 2_000
    logging_steps: int = 100
    # linear warm-up over this fraction of the steps; the paper has none at lr 5.5e-5, but a post-LN BERT
    # at a CPU budget's higher lr needs it to leave the unigram plateau (Xiong et al. 2020)
    warmup_ratio: float = 0.0
    # how a training step treats padding (ssb/unpadded.py): "padded", the HF model's forward over the padded
    # batch; "repad", the real tokens only, repadded for attention alone (1.23x a step on two CPU cores at
    # the cpu shapes on batches in random order, benchmarks/unpadded.py; within drift on pre-training's
    # length-grouped batches, 1.45 % padding: benchmarks/gpu.py --paths); "nested", the real tokens only,
    # attention on nested jagged tensors (varlen kernels on a GPU). The same model and loss, another order of
    # float sums and other dropout draws: a backbone trained otherwise is another artifact (keyed when not
    # "padded")
    attention: str = "padded"


@dataclass(frozen=True)
class FewRelConfig:
    """FewRel relation classification: data, split and fine-tuning of the backbone."""

    source: str = "local"
    path: str = "fewrel/train_wiki_partial_from_wiki80.json.xz"
    hub_name: str = "thunlp/few_rel"
    n_relations: int = 0  # 0: every relation in the file
    n_train_per_relation: int = 630
    n_test_per_relation: int = 70
    # a relation with fewer than 2 instances cannot give both a train and a test sentence: an error naming
    # it, or (true) dropped with a warning
    drop_short_relations: bool = False
    split_seed: int = 0
    max_len: int = 128
    epochs: float = 50.0
    lr: float = 5.5e-5
    weight_decay: float = 1e-2
    batch_size: int = 32
    warmup_ratio: float = 0.0  # the paper: none; paper-fast warms up its larger-batch learning rate


@dataclass(frozen=True)
class HeadRecipe:
    """How a classifier head is trained on cached features (``probe.fit``): AdamW with weight decay as L2,
    the learning rate decaying linearly to zero without warm-up, the examples in an order drawn from ``seed``.
    Its fields, in this order, join the key of whatever the head is trained for."""

    epochs: float
    lr: float
    weight_decay: float
    batch_size: int
    seed: int


@dataclass(frozen=True)
class ProbeConfig:
    """Features of block ``layer`` and the classifier heads trained on them."""

    layer: int = 6  # 1-based block whose attention context is read
    n_train_paragraphs: int = 90_000  # masked 15% at random to train the token head
    n_valid_paragraphs: int = 2_000  # masked one token at a time for the confusion matrices
    activation: str = "gelu"  # between the token head's two layers: gelu, relu or identity
    token_epochs: float = 50.0
    token_lr: float = 1e-4
    token_weight_decay: float = 8e-6
    label_epochs: float = 20.0
    label_lr: float = 5e-5
    label_weight_decay: float = 8e-6
    batch_size: int = 32
    seed: int = 0
    depth_layers: tuple[int, ...] = (1, 2, 3, 4, 5, 6)  # blocks compared by the depth-prominence claim

    @property
    def token_recipe(self) -> HeadRecipe:
        """The token probe's training (§2's token head)."""
        return HeadRecipe(self.token_epochs, self.token_lr, self.token_weight_decay, self.batch_size, self.seed)

    @property
    def label_recipe(self) -> HeadRecipe:
        """The FewRel label head's training."""
        return HeadRecipe(self.label_epochs, self.label_lr, self.label_weight_decay, self.batch_size, self.seed)


@dataclass(frozen=True)
class VariantsConfig:
    """Budgets of the in-run comparisons (symmetric initialisation)."""

    symmetric_steps: int = 2_000
    symmetric_n_train: int = 20_000
    # training paragraphs of the token probes that give each short backbone's per-head recognised tokens
    symmetric_probe_paragraphs: int = 20_000
    # also compare the reference with the symmetric variant at the reference's own budget (the committed or
    # trained `symmetric` backbone); its MLM accuracy and union of recognised tokens then decide the claim
    symmetric_full_budget: bool = False
    symmetric_batch_size: int = 0  # batch of the in-run short backbones; 0: the profile's pretrain.batch_size
    # pre-train the full-budget variants (no-dropout, symmetric) when nothing committed matches; false: their
    # claims are skipped and say so (paper-lease: left to a second loan)
    train_full: bool = True


@dataclass(frozen=True)
class SweepConfig:
    """Node subsets evaluated through the aperture."""

    node_counts: tuple[int, ...] = (1, 2, 4, 8, 12, 16, 32, 64, 128, 256, 512, 768)
    n_subsets: int = 20  # random subsets per node count; n = 1 takes every single node, n = hidden all nodes
    hull_counts: tuple[int, ...] = (1, 2, 4)
    hull_subsets: tuple[int, ...] = (25, 20, 20)  # per hull count; for one node, >= hidden takes every node
    seed: int = 0


@dataclass(frozen=True)
class SeedsConfig:
    """Seeds as an axis of the verdicts: the reference system is measured once per *seed run* and the
    estimates combine the runs and the items (``ssb.seeds``). Run k sets ``probe.seed`` (the token probe's
    and the FewRel label head's initialisation and order, the masking of the probe's training features) to
    ``probe[k]``, ``sweep.seed`` (the node-subset draws) to ``subsets[k]`` and ``fewrel.split_seed`` (the
    FewRel split, and so its fine-tuning) to ``fewrel_split[k]``; a list of one entry holds for every run,
    an empty one keeps the profile's own seed. Every system a claim reads (the reference, its variants, the
    controls of its checks) is measured on every run with the run's seeds; the backbones are the same."""

    probe: tuple[int, ...] = ()
    subsets: tuple[int, ...] = ()
    fewrel_split: tuple[int, ...] = ()
    # other initial conditions of the reference's recipe (``backbone.seed``: initialisation and paragraph
    # order), each pre-trained as a backbone of its own (``systems.init_seed``) for the spontaneous-breaking
    # claim; not a seed run unless ``over_backbones``: the other claims read the profile's own backbone
    backbone: tuple[int, ...] = ()
    # the backbones as the outer level of the seed runs (issue #37): a claim whose systems are all the reference
    # or never trained (random-init, control-task, the tied probe) is measured on every seed run of every
    # backbone (backbone.seed, then ``backbone``), each backbone's controls from its own initial conditions,
    # and its bootstrap draws backbones, then runs, then items; claims that read a pre-trained variant stay on
    # the profile's own backbone (their variants exist for it alone). Needs ``backbone``.
    over_backbones: bool = False
    # other orders of the training paragraphs with the profile's own initialisation (``backbone.data_seed``),
    # each pre-trained as a backbone of its own (``systems.data_order``): what the order alone changes
    data_order: tuple[int, ...] = ()

    @property
    def n_runs(self) -> int:
        return max(len(self.probe), len(self.subsets), len(self.fewrel_split), 1)


@dataclass(frozen=True)
class SpecificityConfig:
    """The controls every absolute check (one without a ``control``) is also decided on (``ssb.specificity``):
    registered systems (``ssb/systems.py``) that a claim's measure can be taken on; each is measured once, at
    the profile's own seeds. Empty: no specificity rows. Nothing here enters an artifact's key."""

    controls: tuple[str, ...] = ()
    # subsets per node count of a control's curve where only this pass reads it (the counts its checks compare
    # keep the sweep's n_subsets): the first ones of the sweep's draw, so that every system shares them; 0:
    # the sweep's n_subsets
    curve_subsets: int = 0


@dataclass(frozen=True)
class RuntimeConfig:
    """How the work runs, not what it computes: device, precision, threads, processes and the data path
    (``ssb/device.py`` resolves ``auto`` for the machine at hand). None of it enters a backbone's config hash;
    what changes a model's last bits (bf16, a fixed number of threads) is told apart in the store keys of
    what it trains (``device.numerics_tag``)."""

    device: str = "auto"  # auto (the GPU when there is one), cpu, cuda, cuda:N
    precision: str = "auto"  # auto (bf16 autocast on a GPU that has it, else fp32), fp32, bf16
    optimizer: str = "auto"  # auto (fused AdamW on a GPU, else the plain one), adamw_torch, adamw_torch_fused
    dataloader_workers: int = -1  # -1: auto (4 on a GPU, 0 on the CPU, where collation shares the cores)
    compile: bool = False  # torch.compile the backbone in training (pays off only on long runs)
    tf32: bool = True  # allow TF32 matrix products on a GPU (fp32 runs)
    gpu_memory_gib: float = 16.0  # bound on the tensors the aperture and the probes hold on a GPU at once
    # how long a run waits for another process that is building the same artifact (its lock) before it
    # gives up with exit 2, leaving the holder's work untouched; the wait is announced with the holder's pid
    lock_timeout_s: float = 3_600.0
    # a time budget for the whole run in seconds (0: none; `--time-budget 8m`): the pre-training steps fill
    # pretrain_share of it and the FewRel fine-tuning fewrel_share, at the rate measured on this machine
    # (ssb/budget.py); the rest is left to features, probes, sweeps, claims and report
    time_budget_s: float = 0.0
    pretrain_share: float = 0.35
    fewrel_share: float = 0.1
    # torch's threads in each process of the run (0: torch's default, one per core). A sum split over more
    # threads rounds differently in its last bits, so a profile whose numbers must not depend on the machine
    # sets it (it joins the keys of what is trained); on a small model one thread trains as fast as two
    threads: int = 0
    # processes building a claims run's artifacts at once: the run and ``jobs - 1`` build helpers
    # (ssb/helpers.py; 0: one per core, at most 4). Every helper computes at the run's own threads, so an
    # artifact is the same whichever process built it
    jobs: int = 1


@dataclass(frozen=True)
class Profile:
    name: str = "paper"
    # the expectation tier of the claims (smoke, cpu, paper) this profile is checked against; a profile that
    # names none cannot run the claims (they would check nothing)
    expect: str = ""
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    fewrel: FewRelConfig = field(default_factory=FewRelConfig)
    probe: ProbeConfig = field(default_factory=ProbeConfig)
    sweep: SweepConfig = field(default_factory=SweepConfig)
    variants: VariantsConfig = field(default_factory=VariantsConfig)
    seeds: SeedsConfig = field(default_factory=SeedsConfig)
    specificity: SpecificityConfig = field(default_factory=SpecificityConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def replace(self, **sections: Any) -> Profile:
        """A copy with some sections' fields changed: ``p.replace(backbone={"hidden_dropout": 0.0})``."""
        changed = {name: dataclasses.replace(getattr(self, name), **fields) for name, fields in sections.items()}
        return dataclasses.replace(self, **changed)
