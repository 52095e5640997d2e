"""Concept lexicons: the words of spam's few subjects, in English, German and Russian.

Spam is about few things whatever its language: money, crypto, earnings, prizes, pills, sex,
"contact me elsewhere", "call our support number". A word list per concept maps the words of
any of these languages onto one feature per concept, so what the model learns from English
spam about "earn" also holds for "verdienen" and "заработок". The lists were written from
general knowledge of spam, not taken from any data set.

An entry is a word (``"bitcoin"``), a word stem ending in ``*`` (``"заработ*"`` matches every
word that starts so; stems match on their first :data:`MAX_STEM` letters), or a phrase of whole
words (``"dm me"``). Entries are matched on the
normalised text (lower case, digits folded to ``0``) through the word hashes
:class:`~spamguard.local._hashing.TextBatch` computes anyway, so matching costs a few vector
operations per batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._hashing import _BIGRAM, _MASK, _SPREAD, _WORD_SALT, SMALL_BATCH, TextBatch, _hash_str, normalize_text

__all__ = ["CONCEPTS", "concept_counts", "matched_entries"]

CONCEPTS: dict[str, tuple[str, ...]] = {
    "money": (
        # en
        "money", "cash", "dollars", "dollar", "usd", "euro", "euros", "eur", "pounds", "bucks", "paypal",
        "payout", "payouts", "paid", "payment", "withdraw*", "wire transfer", "bank account", "cash app",
        "cashapp", "loan", "loans", "credit", "debt", "fee", "fees",
        # de
        "geld", "bargeld", "überweisung", "kredit", "zahlung", "auszahlung*",
        # ru
        "деньг*", "денеж*", "рубл*", "руб", "доллар*", "евро", "баксов", "выплат*", "кредит*", "займ*",
        "наличн*", "перевод на карту",
    ),
    "crypto": (
        "bitcoin*", "btc", "crypto*", "cryptocurrenc*", "ethereum", "eth", "usdt", "usdc", "binance",
        "coinbase", "blockchain", "wallet", "wallets", "airdrop*", "nft", "nfts", "token", "tokens", "forex",
        "fx trading", "mining", "altcoin*", "memecoin*", "defi", "seed phrase",
        "krypto*", "kryptowährung*", "börse",
        "крипт*", "биткоин*", "биткойн*", "блокчейн*", "кошел*", "майнинг*", "токен*", "форекс", "биржа",
        "бирж*", "арбитраж*",
    ),
    "earn": (
        "earn", "earns", "earned", "earning", "earnings", "income", "profit", "profits", "profitable",
        "invest", "invested", "investing", "investment", "investments", "investor", "returns", "trading",
        "trader", "traders", "broker", "passive income", "make money", "making money", "made money",
        "work from home", "from home", "per day", "per week", "per month", "a day", "a week", "daily profit",
        "weekly", "side hustle", "financial freedom", "account manager", "mentor", "signals",
        "verdien*", "einkommen", "nebenverdienst", "nebeneinkommen", "gewinne", "rendite", "investier*",
        "von zuhause", "pro tag", "pro woche", "pro monat",
        "заработ*", "доход*", "прибыл*", "инвест*", "подработ*", "пассивн*", "удаленн*", "удалённ*",
        "в день", "в неделю", "в месяц", "в сутки", "трейд*", "вакан*", "набор", "сотрудник*",
    ),
    "contact": (
        "whatsapp", "whats app", "telegram", "signal app", "wechat", "viber", "kik", "snapchat", "inbox me",
        "dm me", "dm", "pm me", "message me", "text me", "call me", "contact", "contacts", "contacted",
        "contacting", "reach out", "reach her", "reach him", "get in touch", "write to me", "hit me up",
        "link in bio", "in my bio", "my profile", "click the link", "click here", "add me",
        "schreib mir", "schreibt mir", "kontakt", "kontaktier*", "melde dich", "meldet euch", "nachricht",
        "пиши*", "напиш*", "личк*", "лс", "в лс", "личные сообщения", "телеграм*", "ватсап*", "вотсап*",
        "вацап*", "обращай*", "свяж*", "контакт*", "переходи*", "жми", "по ссылке", "ссылк*",
    ),
    "prize": (
        "win", "wins", "winner", "winners", "won", "prize", "prizes", "claim", "claimed", "free", "gift",
        "gifts", "giveaway", "reward", "rewards", "bonus", "congratulations", "congrats", "selected",
        "voucher", "vouchers", "award", "awarded", "lottery", "jackpot", "lucky", "guaranteed", "offer",
        "gewinn", "gewinnen", "gewinner", "gewonnen", "gratis", "kostenlos", "geschenk*", "gutschein*",
        "glückwunsch", "verlosung", "preisausschreiben",
        "выигр*", "приз*", "подар*", "бесплатн*", "бонус*", "розыгр*", "поздравля*", "акци*", "халяв*",
    ),
    "pharma": (
        "viagra", "cialis", "levitra", "pill", "pills", "pharmacy", "pharmacies", "prescription",
        "tramadol", "xanax", "valium", "oxycodone", "weight loss", "lose weight", "diet pills", "keto",
        "erectile", "enhancement", "supplement", "supplements", "meds", "medication", "cbd",
        "potenz*", "abnehm*", "apotheke", "rezeptfrei", "tabletten",
        "виагр*", "сиалис*", "таблет*", "похуд*", "препарат*", "аптек*", "потенци*",
    ),
    "adult": (
        "sex", "sexy", "porn", "porno", "xxx", "nude", "nudes", "naked", "dating", "hot girls",
        "hot singles", "singles", "escort", "escorts", "webcam", "cam girls", "horny", "hookup", "onlyfans",
        "erotik", "nackt", "heiße", "seitensprung",
        "секс*", "интим*", "знакомств*", "эрот*", "порн*", "обнаж*", "голые", "эскорт*", "девушк*",
        "шлюх*",
    ),
    "support": (
        "support number", "customer service", "customer care", "customer support", "helpline",
        "help line", "toll free", "tollfree", "tech support", "technical support", "phone number",
        "helpdesk", "help desk", "contact number", "hotline", "service number", "support phone",
        "00/0", "00x0", "quickbooks", "antivirus", "printer support", "recovery service",
        "kundendienst", "kundenservice", "support nummer", "telefonnummer",
        "техподдержк*", "служба поддержки", "горяч* линия", "номер телефона",
    ),
    "promo": (
        "subscribe", "subscribed", "subscribers", "sub4sub", "my channel", "check out", "checkout",
        "follow me", "visit my", "my website", "my page", "my site", "my video", "my videos", "sign up",
        "signup", "register", "registration", "join now", "promo", "promo code", "coupon", "discount",
        "cheap", "cheapest", "buy", "order now", "best price", "sale", "limited time",
        "only today", "act now", "urgent", "hurry", "last chance",
        "abonnier*", "mein kanal", "klick", "hier klicken", "kaufen", "günstig", "billig", "rabatt",
        "angebot", "bestell*",
        "подпис*", "мой канал", "регистрац*", "скидк*", "дешев*", "купи*", "заказ*", "продам",
        "продаж*", "реклам*", "срочно", "успей*", "только сегодня", "гарант*", "предлага*", "акция",
    ),
    "testimony": (
        "thanks to", "thank you so much", "god bless", "highly recommend", "i recommend", "recommend her",
        "recommend him", "changed my life", "never expected", "legit", "trustworthy", "reliable",
        "scammed", "scam", "scammer", "scammers", "recover", "recovered", "recovery", "lost my",
        "hacked", "testimony", "testimonial", "blessed", "expert", "her service", "his service",
        "seriös", "betrogen", "empfehle",
        "рекомендую", "отзыв*", "проверен*", "надежн*", "надёжн*", "мошенн*", "вернул*",
    ),
}
"""The concepts and their entries (words, ``stem*`` and phrases), normalised as text is."""

_PREFIX_SALT = 0xD6E8FEB86659FD93
_INDEX = {concept: j for j, concept in enumerate(CONCEPTS)}


def _word_hash(word: str) -> int:
    return _hash_str(word) ^ _WORD_SALT


def _prefix_hash(stem: str) -> int:
    return _hash_str(stem) ^ _PREFIX_SALT


def _phrase_hash(words: list[str]) -> int:
    h = _word_hash(words[0])
    for word in words[1:]:
        h = (h * _BIGRAM + _word_hash(word)) & _MASK
    return h


MAX_STEM = 7
"""Stems match on their first 7 letters at most (fewer prefix lengths to hash: faster)."""


def _stem(text: str) -> str:
    return text[:-1][:MAX_STEM]


def _compile() -> tuple[np.ndarray, np.ndarray, tuple[int, ...], int]:
    """Sorted entry hashes, their concept numbers, the stem lengths used and the longest phrase."""
    keys: dict[int, int] = {}
    stems: set[int] = set()
    longest = 1
    for concept, entries in enumerate(CONCEPTS.values()):
        for entry in entries:
            text = normalize_text(entry).strip()
            words = text.split(" ")
            if text.endswith("*"):
                stem = _stem(text)
                stems.add(len(stem))
                keys.setdefault(_prefix_hash(stem), concept)
            elif len(words) > 1:
                longest = max(longest, len(words))
                keys.setdefault(_phrase_hash(words), concept)
            else:
                keys.setdefault(_word_hash(text), concept)
    order = sorted(keys)
    return (np.array(order, dtype=np.uint64), np.array([keys[k] for k in order], dtype=np.intp),
            tuple(sorted(stems)), longest)


_KEYS, _CONCEPT_OF, _STEM_LENGTHS, _LONGEST = _compile()


def _plain_entries() -> tuple[dict[str, str], dict[str, str]]:
    """Words and phrases, and stems, each mapped to its concept (for naming what matched)."""
    whole: dict[str, str] = {}
    stems: dict[str, str] = {}
    for concept, entries in CONCEPTS.items():
        for entry in entries:
            text = normalize_text(entry).strip()
            if text.endswith("*"):
                stems.setdefault(_stem(text), concept)
            else:
                whole.setdefault(text, concept)
    return whole, stems


_WHOLE, _STEMS_OF = _plain_entries()


def matched_entries(words: list[str]) -> dict[str, list[str]]:
    """The lexicon entries a text's normalised words hold, by concept, in order (stems as the word found).

    The plain-Python counterpart of :func:`concept_counts`, for naming reasons; the two agree.
    """
    found: dict[str, list[str]] = {}
    for i, word in enumerate(words):
        if word in _WHOLE:
            found.setdefault(_WHOLE[word], []).append(word)
        if word[:_SHORTEST_STEM] in _STEM_STARTS:  # else no stem can match (nearly every word)
            for k in _STEM_LENGTHS:
                if len(word) >= k and word[:k] in _STEMS_OF:
                    found.setdefault(_STEMS_OF[word[:k]], []).append(word)
        if word not in _PHRASE_STARTS:
            continue
        for size in range(2, _LONGEST + 1):
            phrase = " ".join(words[i:i + size])
            if i + size <= len(words) and phrase in _WHOLE:
                found.setdefault(_WHOLE[phrase], []).append(phrase)
    return found


_PHRASE_STARTS = frozenset(entry.split(" ")[0] for entry in _WHOLE if " " in entry)
_SHORTEST_STEM = min(_STEM_LENGTHS, default=1)
_STEM_STARTS = frozenset(stem[:_SHORTEST_STEM] for stem in _STEMS_OF)
_STEMS = np.array(_STEM_LENGTHS, dtype=np.intp)
_FILTER_SHIFT = np.uint64(64 - 16)
_FILTER = np.zeros(1 << 16, dtype=bool)  # a first, cheap look-up that rules out nearly every word
_FILTER[(_KEYS * np.uint64(_SPREAD)) >> _FILTER_SHIFT] = True


def concept_counts_of_words(texts_words: Sequence[list[str]]) -> np.ndarray:
    """:func:`concept_counts` of texts given as their normalised words (plain Python, for a text or two)."""
    counts = np.zeros((len(texts_words), len(CONCEPTS)))
    for i, words in enumerate(texts_words):
        for concept, found in matched_entries(words).items():
            counts[i, _INDEX[concept]] = len(found)
    return counts


def concept_counts(batch: TextBatch) -> np.ndarray:
    """How many entries of each concept (columns in :data:`CONCEPTS` order) each text holds."""
    n_concepts = len(CONCEPTS)
    if batch.n <= SMALL_BATCH:
        return concept_counts_of_words(batch.word_strings())
    word_hash, word_doc, word_len = batch.words()
    if not word_hash.shape[0]:
        return np.zeros((batch.n, n_concepts))
    starts = batch.word_starts()
    # Every word's prefixes of the stems' lengths, at once (a prefix no longer than the word).
    fits = word_len[:, np.newaxis] >= _STEMS
    ends = (starts[:, np.newaxis] + _STEMS)[fits]
    begin = np.broadcast_to(starts[:, np.newaxis], fits.shape)[fits]
    prefixes = ((batch.g[ends] - batch.g[begin]) * batch.pw[ends - 1]) ^ np.uint64(_PREFIX_SALT)  # wraps silently
    phrases = [batch.ngram_hashes(size) for size in range(2, _LONGEST + 1)]
    h = np.concatenate([word_hash, prefixes, *(p[0] for p in phrases)])
    maybe = np.flatnonzero(_FILTER[(h * np.uint64(_SPREAD)) >> _FILTER_SHIFT])
    h = h[maybe]
    at = np.minimum(np.searchsorted(_KEYS, h), _KEYS.shape[0] - 1)
    hit = _KEYS[at] == h
    prefix_doc = np.broadcast_to(word_doc[:, np.newaxis], fits.shape)[fits]
    doc = np.concatenate([word_doc, prefix_doc, *(p[1] for p in phrases)])[maybe]
    flat = doc[hit] * n_concepts + _CONCEPT_OF[at[hit]]
    return np.bincount(flat, minlength=batch.n * n_concepts).reshape(batch.n, n_concepts).astype(np.float64)
