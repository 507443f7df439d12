"""Tiny models built in tests, so fine-tuning paths run offline in seconds."""

from __future__ import annotations

from pathlib import Path


def build_tiny_bert(folder: Path, texts: list[str], vocab_size: int) -> Path:
    """A tiny BERT classifier checkpoint (WordPiece vocabulary trained on `texts`, one layer
    of width 32) saved in `folder`: the fine-tuning path of any transformer model runs on it
    in seconds, offline, where a real checkpoint would take minutes."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer.train_from_iterator(
        texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials)
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]",
                                   pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                                   mask_token="[MASK]")
    fast.save_pretrained(folder)
    config = BertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
    BertForSequenceClassification(config).save_pretrained(folder)
    return folder
