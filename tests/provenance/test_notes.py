"""C2SP signed notes with Ed25519 keys, and C2SP tlog-checkpoint bodies."""

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.standards.merkle import hash_leaf
from provenance.standards.notes import (
    Checkpoint,
    CheckpointError,
    InvalidKeyError,
    InvalidNoteError,
    InvalidSignatureError,
    NoteSigner,
    NoteVerifier,
    UnverifiedNoteError,
    add_signatures,
    generate_signer,
    open_note,
    sign_note,
    signer_from_key_string,
)

# Vectors from golang.org/x/mod, sumdb/note/note_test.go (TestNewSigner, TestNewVerifier, TestSign,
# TestOpen) and the package documentation of sumdb/note.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)
PETER_NOTE = TEXT + "\n" + PETER_SIG

# The examples of the C2SP signed-note and tlog-checkpoint specifications (keys not published).
C2SP_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore "
    "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

# golang.org/x/mod, sumdb/tlog/note_test.go (TestFormatTree, TestParseTree): a tree of 123456789012
# records whose root is RecordHash("hello world").
GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"

note_text = st.lists(
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\n").filter(lambda ch: ch >= " "),
        max_size=40,
    ),
    min_size=1,
    max_size=6,
).map(lambda lines: "".join(f"{line}\n" for line in lines))


@pytest.fixture(scope="module")
def peter():
    return signer_from_key_string(PETER_SKEY)


# --- Keys -----------------------------------------------------------------------------------------


def test_the_published_signer_key_gives_the_published_verifier_key(peter):
    assert peter.name == "PeterNeumann"
    assert peter.key_id == bytes.fromhex("c74f20a3")
    assert peter.verifier_key() == PETER_VKEY
    assert NoteVerifier.from_key_string(PETER_VKEY).verifier_key() == PETER_VKEY


def test_the_key_id_is_the_truncated_hash_of_name_type_and_key():
    verifier = NoteVerifier.from_key_string(ENOCH_VKEY)
    assert verifier.name == "EnochRoot"
    assert verifier.key_id == bytes.fromhex("af0cfe78")


def test_a_generated_key_round_trips_through_its_key_strings():
    signer, skey = generate_signer("provenant.example/log")
    assert skey.startswith(f"PRIVATE+KEY+provenant.example/log+{signer.key_id.hex()}+")
    again = signer_from_key_string(skey)
    assert again.key_id == signer.key_id
    assert again.verifier_key() == signer.verifier_key()
    verifier = NoteVerifier.from_key_string(signer.verifier_key())
    assert open_note(sign_note("hello\n", [again]), [verifier]).verified == ("provenant.example/log",)


def test_every_mangled_verifier_key_is_rejected():
    # As TestNewVerifier: every proper substring and every single-character change.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(InvalidKeyError):
                    NoteVerifier.from_key_string(PETER_VKEY[i:j])
    for i, ch in enumerate(PETER_VKEY):
        with pytest.raises(InvalidKeyError):
            NoteVerifier.from_key_string(PETER_VKEY[:i] + chr(ord(ch) + 1) + PETER_VKEY[i + 1 :])


def test_a_verifier_key_of_the_wrong_length_or_type_is_rejected():
    # From TestNewVerifier: key IDs adjusted to match, so only the key itself is wrong.
    with pytest.raises(InvalidKeyError, match="32 bytes"):
        NoteVerifier.from_key_string(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(InvalidKeyError, match="unknown signature type"):
        NoteVerifier.from_key_string("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_every_mangled_signer_key_is_rejected():
    # As TestNewSigner.
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(InvalidKeyError):
                    signer_from_key_string(PETER_SKEY[i:j])
    for i, ch in enumerate(PETER_SKEY):
        with pytest.raises(InvalidKeyError):
            signer_from_key_string(PETER_SKEY[:i] + chr(ord(ch) + 1) + PETER_SKEY[i + 1 :])


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0here", "new\nline", "bell\x07"])
def test_key_names_must_be_non_empty_without_spaces_or_plus(name):
    with pytest.raises(InvalidKeyError):
        NoteSigner(name, Ed25519PrivateKey.generate())


# --- Signing and opening --------------------------------------------------------------------------


def test_signing_reproduces_the_go_note_package_byte_for_byte(peter):
    assert sign_note(TEXT, [peter]) == PETER_NOTE
    assert peter.sign(TEXT) == PETER_SIG


def test_opening_the_go_note_verifies_its_signature():
    note = open_note(PETER_NOTE, [NoteVerifier.from_key_string(PETER_VKEY)])
    assert note.text == TEXT
    assert note.verified == ("PeterNeumann",)
    assert [s.key_id.hex() for s in note.signatures] == ["c74f20a3"]
    assert note.signatures[0].line == PETER_SIG
    assert note.unverified_signatures == ()


def test_signatures_from_unknown_keys_are_kept_unverified():
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [NoteVerifier.from_key_string(PETER_VKEY)])
    assert note.verified == ("PeterNeumann",)
    assert [s.name for s in note.unverified_signatures] == ["EnochRoot"]
    assert note.unverified_signatures[0].key_id == bytes.fromhex("af0cfe78")


def test_both_published_signatures_verify_with_both_keys():
    verifiers = [NoteVerifier.from_key_string(PETER_VKEY), NoteVerifier.from_key_string(ENOCH_VKEY)]
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, verifiers)
    assert note.verified == ("PeterNeumann", "EnochRoot")
    assert note.unverified_signatures == ()


def test_a_note_without_a_known_signature_is_refused():
    with pytest.raises(UnverifiedNoteError) as excinfo:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    assert excinfo.value.text == TEXT
    assert [s.name for s in excinfo.value.unverified_signatures] == ["PeterNeumann", "EnochRoot"]


def test_a_different_key_under_the_same_name_does_not_verify_the_note(peter):
    impostor = NoteSigner("PeterNeumann", Ed25519PrivateKey.generate())
    with pytest.raises(UnverifiedNoteError):
        open_note(PETER_NOTE, [impostor.verifier()])
    with pytest.raises(UnverifiedNoteError):
        open_note(sign_note(TEXT, [impostor]), [peter.verifier()])


def test_a_bad_signature_from_a_known_key_refuses_the_whole_note():
    # From TestOpen: four characters inserted into the signature.
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    verifiers = [NoteVerifier.from_key_string(PETER_VKEY)]
    with pytest.raises(InvalidSignatureError, match=r"invalid signature for key PeterNeumann\+c74f20a3"):
        open_note(TEXT + "\n" + bad, verifiers)
    with pytest.raises(InvalidNoteError):
        open_note(TEXT + "\n" + PETER_SIG + bad, verifiers)


def test_tampered_text_is_refused():
    tampered = PETER_NOTE.replace("cryptography", "blockchain")
    with pytest.raises(InvalidSignatureError):
        open_note(tampered, [NoteVerifier.from_key_string(PETER_VKEY)])


def test_repeated_signatures_are_reported_once():
    note = open_note(
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG,
        [NoteVerifier.from_key_string(PETER_VKEY)],
    )
    assert note.verified == ("PeterNeumann",)
    assert len(note.unverified_signatures) == 1


def test_conflicting_verifiers_for_one_key_id_are_an_error():
    peter = NoteVerifier.from_key_string(PETER_VKEY)
    forged = NoteVerifier("PeterNeumann", Ed25519PrivateKey.generate().public_key())
    forged.key_id = peter.key_id
    with pytest.raises(ValueError, match="ambiguous"):
        open_note(PETER_NOTE, [peter, forged])


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        "\udcff" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
        "qdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG.replace("— ", "- "),
        TEXT + "\n" + "— PeterNeumann not*base64\n",
        TEXT + "\n" + "— PeterNeumann AAAAAA==\n",
        TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG,
    ],
)
def test_malformed_notes_are_rejected(note):
    # The first seven are TestOpen's badMsgs.
    with pytest.raises(InvalidNoteError):
        open_note(note, [NoteVerifier.from_key_string(PETER_VKEY)])


def test_more_than_one_hundred_signatures_are_rejected():
    with pytest.raises(InvalidNoteError, match="more than 100"):
        open_note(TEXT + "\n" + PETER_SIG * 101, [NoteVerifier.from_key_string(PETER_VKEY)])
    with pytest.raises(InvalidNoteError, match="more than 100"):
        open_note(TEXT + "\n" + PETER_SIG * 101, [])


def test_seventeen_signatures_are_accepted():
    signers = [generate_signer(f"witness{i}.example")[0] for i in range(17)]
    note = sign_note("example.com/log\n5\n" + base64.b64encode(bytes(32)).decode() + "\n", signers)
    opened = open_note(note, [s.verifier() for s in signers])
    assert opened.verified == tuple(f"witness{i}.example" for i in range(17))
    one = open_note(note, [signers[16].verifier()])
    assert one.verified == ("witness16.example",)
    assert len(one.unverified_signatures) == 16


def test_signing_with_more_than_one_hundred_keys_is_refused():
    signer = generate_signer("a")[0]
    with pytest.raises(InvalidNoteError):
        sign_note("x\n", [signer] * 101)


@pytest.mark.parametrize("text", ["abc", "", "a\x00b\n", "a\rb\n", "\udc80\n"])
def test_only_newline_terminated_text_without_control_characters_is_signed(peter, text):
    with pytest.raises(InvalidNoteError):
        sign_note(text, [peter])


def test_a_note_needs_a_signer():
    with pytest.raises(ValueError):
        sign_note(TEXT, [])


def test_the_text_may_contain_blank_lines(peter):
    text = "first\n\nthird\n\n"
    note = open_note(sign_note(text, [peter]), [peter.verifier()])
    assert note.text == text


@settings(max_examples=50, deadline=None)
@given(note_text)
def test_any_signed_text_opens_to_itself(text):
    signer = generate_signer("roundtrip.example")[0]
    assert open_note(sign_note(text, [signer]), [signer.verifier()]).text == text


# --- Cosigning ------------------------------------------------------------------------------------


def test_cosigning_keeps_the_existing_signatures():
    witness = generate_signer("witness.example")[0]
    cosigned = add_signatures(PETER_NOTE, [witness])
    assert cosigned.startswith(PETER_NOTE)
    note = open_note(cosigned, [NoteVerifier.from_key_string(PETER_VKEY), witness.verifier()])
    assert note.verified == ("PeterNeumann", "witness.example")


def test_cosigning_keeps_signatures_from_keys_it_does_not_know():
    witness = generate_signer("witness.example")[0]
    cosigned = add_signatures(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [witness])
    assert cosigned.startswith(TEXT + "\n" + PETER_SIG + ENOCH_SIG)
    verifiers = [
        NoteVerifier.from_key_string(PETER_VKEY),
        NoteVerifier.from_key_string(ENOCH_VKEY),
        witness.verifier(),
    ]
    assert open_note(cosigned, verifiers).verified == ("PeterNeumann", "EnochRoot", "witness.example")


def test_signing_again_with_the_same_key_replaces_its_signature(peter):
    # As TestSign: an existing signature by the signing key is replaced, not repeated.
    assert add_signatures(PETER_NOTE, [peter]) == PETER_NOTE


def test_cosigning_a_malformed_note_is_refused(peter):
    with pytest.raises(InvalidNoteError):
        add_signatures(TEXT, [peter])


# --- The specifications' own examples -------------------------------------------------------------


def test_the_signed_note_example_splits_at_the_last_blank_line():
    with pytest.raises(UnverifiedNoteError) as excinfo:
        open_note(C2SP_NOTE, [])
    assert excinfo.value.text == (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    )
    assert [s.name for s in excinfo.value.unverified_signatures] == ["quasimodo.example/salvatore"]


def test_the_checkpoint_example_parses():
    with pytest.raises(UnverifiedNoteError) as excinfo:
        open_note(C2SP_CHECKPOINT, [])
    checkpoint = Checkpoint.parse(excinfo.value.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == excinfo.value.text


# --- Checkpoints ----------------------------------------------------------------------------------


def test_a_checkpoint_body_matches_the_go_tree_format():
    checkpoint = Checkpoint("go.sum database tree", 123456789012, hash_leaf(b"hello world"))
    assert checkpoint.body() == GO_TREE
    assert Checkpoint.parse(GO_TREE) == checkpoint


def test_extension_lines_follow_the_root():
    checkpoint = Checkpoint.parse(GO_TREE + "JOE\nJOE\n")
    assert checkpoint.extensions == ("JOE", "JOE")
    assert checkpoint.body() == GO_TREE + "JOE\nJOE\n"


@pytest.mark.parametrize(
    "body",
    [
        "go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n",
        GO_TREE + "JOE",
        GO_TREE.replace("123456789012", "0123456789012"),
        GO_TREE.replace("123456789012", "-1"),
        GO_TREE.replace("123456789012", "+1"),
        GO_TREE.replace("123456789012", " 1"),
        GO_TREE.replace("123456789012", "1.0"),
        GO_TREE.replace("123456789012", "١٢"),
        GO_TREE.replace("123456789012", ""),
        GO_TREE.replace("123456789012", str(2**63)),
        GO_TREE.replace("Bb0=", "Bb1="),
        GO_TREE.replace("Bb0=", "Bb0"),
        GO_TREE.replace("TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=", base64.b64encode(bytes(31)).decode()),
        GO_TREE.replace("go.sum database tree", ""),
        GO_TREE.replace("go.sum database tree", "tab\there"),
        GO_TREE + "\n",
        GO_TREE + "\nJOE\n",
        GO_TREE.replace("\n", "\r\n"),
        "go.sum database tree\n123456789012\n",
        "",
    ],
)
def test_malformed_checkpoint_bodies_are_rejected(body):
    # The first two are TestParseTree's bad trees. Go accepts the third, ignoring what follows the
    # root; C2SP reads it as extension lines, and every line of a note text ends in a newline.
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_a_checkpoint_refuses_values_it_cannot_write():
    root = bytes(32)
    with pytest.raises(CheckpointError):
        Checkpoint("", 1, root)
    with pytest.raises(CheckpointError):
        Checkpoint("a\nb", 1, root)
    with pytest.raises(CheckpointError):
        Checkpoint("log", -1, root)
    with pytest.raises(CheckpointError):
        Checkpoint("log", True, root)
    with pytest.raises(CheckpointError):
        Checkpoint("log", 1, root[:31])
    with pytest.raises(CheckpointError):
        Checkpoint("log", 1, root, ("",))
    with pytest.raises(CheckpointError):
        Checkpoint("log", 1, root, ("a\nb",))


@settings(max_examples=100, deadline=None)
@given(
    origin=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1), max_size=3),
)
def test_a_checkpoint_body_parses_back_to_itself(origin, size, root, extensions):
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_a_signed_checkpoint_opens_and_parses(peter):
    checkpoint = Checkpoint("provenant.example/log", 8, hash_leaf(b"root"))
    note = open_note(sign_note(checkpoint.body(), [peter]), [peter.verifier()])
    assert Checkpoint.parse(note.text) == checkpoint
