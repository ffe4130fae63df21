"""RFC 9162 Merkle trees: published vectors, proof round trips, and the tlog stored-hash layout."""

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.standards.merkle import (
    EMPTY_ROOT,
    ConsistencyProofError,
    InclusionProofError,
    MerkleProofError,
    StoredHashTree,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    prove_record,
    prove_tree,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    split_stored_hash_index,
    stored_hash_count,
    stored_hash_index,
    stored_hashes_for_record_hash,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

# Vectors from github.com/transparency-dev/merkle, proof/verify_test.go (commit 02194e9a): the
# `leaves`, `roots`, `inclusionProofs` and `consistencyProofs` tables, the RFC 6962 reference data
# also used by Certificate Transparency. That file numbers leaves from 1; the indexes here are 0-based.
LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAF_HASHES = [hash_leaf(d) for d in LEAVES]
ROOTS = {
    size: bytes.fromhex(h)
    for size, h in enumerate(
        (
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ),
        start=1,
    )
}
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def _leaf_hashes(n):
    return [hash_leaf(i.to_bytes(4, "big")) for i in range(n)]


def _flip(proof, i, byte=0):
    changed = bytearray(proof[i])
    changed[byte] ^= 0x01
    return [*proof[:i], bytes(changed), *proof[i + 1 :]]


# --- Published vectors ----------------------------------------------------------------------------


def test_the_empty_tree_hashes_to_the_sha256_of_nothing():
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_leaves_and_nodes_are_domain_separated():
    assert hash_leaf(b"") == hashlib.sha256(b"\x00").digest()
    assert hash_children(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference_vectors(size):
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_inclusion_proofs_match_the_reference_vectors(index, size, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert inclusion_proof(LEAF_HASHES, index, size) == expected
    verify_inclusion(LEAF_HASHES[index], index, size, expected, ROOTS[size])
    assert root_from_inclusion_proof(LEAF_HASHES[index], index, size, expected) == ROOTS[size]


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY_PROOFS)
def test_consistency_proofs_match_the_reference_vectors(old, new, proof):
    expected = [bytes.fromhex(h) for h in proof]
    assert consistency_proof(LEAF_HASHES, old, new) == expected
    verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)


@pytest.mark.parametrize(("index", "size", "proof"), [v for v in INCLUSION_PROOFS if v[2]])
def test_corrupted_reference_inclusion_proofs_are_rejected(index, size, proof):
    proof = [bytes.fromhex(h) for h in proof]
    leaf, root = LEAF_HASHES[index], ROOTS[size]
    for wrong_index in {index - 1, index + 1, index ^ 2} - {index}:
        if wrong_index >= 0:
            with pytest.raises(InclusionProofError):
                verify_inclusion(leaf, wrong_index, size, proof, root)
    for wrong_size in (size * 2, size // 2):
        with pytest.raises(InclusionProofError):
            verify_inclusion(leaf, index, wrong_size, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(hash_leaf(b"WrongLeaf"), index, size, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf, index, size, [*proof, root], root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf, index, size, [root, *proof], root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf, index, size, proof[:-1], root)


@pytest.mark.parametrize(("old", "new", "proof"), [v for v in CONSISTENCY_PROOFS if v[2]])
def test_corrupted_reference_consistency_proofs_are_rejected(old, new, proof):
    proof = [bytes.fromhex(h) for h in proof]
    old_root, new_root = ROOTS[old], ROOTS[new]
    for wrong_old in {old - 1, old + 1, old ^ 2} - {old}:
        with pytest.raises(ConsistencyProofError):
            verify_consistency(wrong_old, new, old_root, new_root, proof)
    for wrong_new in (new * 2, new // 2):
        with pytest.raises(ConsistencyProofError):
            verify_consistency(old, wrong_new, old_root, new_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, new_root, old_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, new_root, [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, new_root, [*proof, old_root])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, new_root, [proof[0], *proof])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, new_root, proof[:-1])


# --- Error messages and edge cases ----------------------------------------------------------------


def test_a_wrong_root_reports_the_expected_and_computed_roots():
    proof = inclusion_proof(LEAF_HASHES, 5, 8)
    with pytest.raises(InclusionProofError) as excinfo:
        verify_inclusion(LEAF_HASHES[5], 5, 8, proof, ROOTS[7])
    message = str(excinfo.value)
    assert f"expected {ROOTS[7].hex()}" in message
    assert f"computed {ROOTS[8].hex()}" in message


def test_a_wrong_new_root_reports_the_expected_and_computed_roots():
    proof = consistency_proof(LEAF_HASHES, 6, 8)
    with pytest.raises(ConsistencyProofError) as excinfo:
        verify_consistency(6, 8, ROOTS[6], ROOTS[7], proof)
    message = str(excinfo.value)
    assert f"expected {ROOTS[7].hex()}" in message
    assert f"computed {ROOTS[8].hex()}" in message


def test_an_index_outside_the_tree_is_rejected_with_the_reason():
    with pytest.raises(InclusionProofError, match="out of range"):
        verify_inclusion(LEAF_HASHES[0], 8, 8, [], ROOTS[8])
    with pytest.raises(InclusionProofError, match="out of range"):
        verify_inclusion(LEAF_HASHES[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(InclusionProofError, match="non-negative"):
        verify_inclusion(LEAF_HASHES[0], -1, 8, [], ROOTS[8])


def test_a_proof_of_the_wrong_length_is_rejected_with_the_lengths():
    proof = inclusion_proof(LEAF_HASHES, 0, 8)
    with pytest.raises(InclusionProofError, match="expected 3 hashes, got 2"):
        verify_inclusion(LEAF_HASHES[0], 0, 8, proof[:2], ROOTS[8])
    with pytest.raises(ConsistencyProofError, match="expected 3 hashes, got 4"):
        verify_consistency(6, 8, ROOTS[6], ROOTS[8], [*consistency_proof(LEAF_HASHES, 6, 8), ROOTS[8]])


def test_hashes_of_the_wrong_length_are_rejected():
    with pytest.raises(InclusionProofError, match="32 bytes"):
        verify_inclusion(b"short", 0, 1, [], ROOTS[1])
    with pytest.raises(InclusionProofError, match="32 bytes"):
        verify_inclusion(LEAF_HASHES[0], 0, 2, [b""], ROOTS[2])
    with pytest.raises(ConsistencyProofError, match="32 bytes"):
        verify_consistency(1, 2, ROOTS[1], b"", [LEAF_HASHES[1]])


def test_an_old_tree_larger_than_the_new_one_is_rejected():
    with pytest.raises(ConsistencyProofError, match="larger than"):
        verify_consistency(8, 6, ROOTS[8], ROOTS[6], [])


def test_a_tree_is_consistent_with_itself_only_under_the_same_root():
    verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    with pytest.raises(ConsistencyProofError, match="expected"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    with pytest.raises(ConsistencyProofError, match="expected 0 hashes"):
        verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])


def test_every_tree_extends_the_empty_tree():
    verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 8, ROOTS[1], ROOTS[8], [])
    with pytest.raises(ConsistencyProofError):
        verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])


def test_sizes_with_the_same_audit_path_shape_are_told_apart_only_by_the_root():
    # Leaf 0 has the same audit path shape in trees of 33 and 34 leaves, so a proof cannot tell the
    # sizes apart: the size is bound to the root by the signed checkpoint, not by the proof.
    leaves = _leaf_hashes(34)
    proof = inclusion_proof(leaves, 0, 34)
    verify_inclusion(leaves[0], 0, 33, proof, root_from_leaf_hashes(leaves))
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[0], 0, 33, proof, root_from_leaf_hashes(leaves[:33]))


def test_proof_errors_are_value_errors():
    assert issubclass(InclusionProofError, MerkleProofError)
    assert issubclass(ConsistencyProofError, MerkleProofError)
    assert issubclass(MerkleProofError, ValueError)


# --- Round trips ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda size: st.tuples(st.just(size), st.integers(0, size - 1))))
def test_every_generated_inclusion_proof_verifies(size_and_index):
    size, index = size_and_index
    leaves = _leaf_hashes(size)
    root = root_from_leaf_hashes(leaves)
    verify_inclusion(leaves[index], index, size, inclusion_proof(leaves, index, size), root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda new: st.tuples(st.integers(0, new), st.just(new))))
def test_every_generated_consistency_proof_verifies(sizes):
    old, new = sizes
    leaves = _leaf_hashes(new)
    proof = consistency_proof(leaves, old, new)
    verify_consistency(old, new, root_from_leaf_hashes(leaves[:old]), root_from_leaf_hashes(leaves), proof)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 300).flatmap(lambda size: st.tuples(st.just(size), st.integers(0, size - 1))), st.data()
)
def test_a_tampered_inclusion_proof_is_rejected(size_and_index, data):
    size, index = size_and_index
    leaves = _leaf_hashes(size)
    root = root_from_leaf_hashes(leaves)
    proof = inclusion_proof(leaves, index, size)
    position = data.draw(st.integers(0, len(proof) - 1))
    byte = data.draw(st.integers(0, 31))
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[index], index, size, _flip(proof, position, byte), root)
    wrong_index = data.draw(st.integers(0, size).filter(lambda i: i != index))
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[index], wrong_index, size, proof, root)
    wrong_size = data.draw(st.sampled_from([s for s in (2 * size, size // 2) if s > index]))
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[index], index, wrong_size, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(_flip([leaves[index]], 0, byte)[0], index, size, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaves[index], index, size, proof, _flip([root], 0, byte)[0])


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 300).flatmap(lambda new: st.tuples(st.integers(1, new - 1), st.just(new))), st.data())
def test_a_tampered_consistency_proof_is_rejected(sizes, data):
    old, new = sizes
    leaves = _leaf_hashes(new)
    old_root, new_root = root_from_leaf_hashes(leaves[:old]), root_from_leaf_hashes(leaves)
    proof = consistency_proof(leaves, old, new)
    position = data.draw(st.integers(0, len(proof) - 1))
    byte = data.draw(st.integers(0, 31))
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, new_root, _flip(proof, position, byte))
    wrong_old = data.draw(st.integers(1, new - 1).filter(lambda s: s != old))
    with pytest.raises(ConsistencyProofError):
        verify_consistency(wrong_old, new, old_root, new_root, proof)
    wrong_new = data.draw(st.sampled_from([s for s in (2 * new, new // 2) if s >= old]))
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, wrong_new, old_root, new_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, _flip([old_root], 0, byte)[0], new_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(old, new, old_root, _flip([new_root], 0, byte)[0], proof)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40))
def test_the_root_is_the_recursive_definition(data):
    def mth(leaves):
        if len(leaves) == 1:
            return hash_leaf(leaves[0])
        k = 1 << ((len(leaves) - 1).bit_length() - 1)
        return hash_children(mth(leaves[:k]), mth(leaves[k:]))

    assert root_from_leaf_hashes([hash_leaf(d) for d in data]) == mth(data)


# --- A real Certificate Transparency log --------------------------------------------------------

# Responses of Google's Argon 2020 CT log (get-sth, get-entries?start=10000&end=10000,
# get-proof-by-hash, get-sth-consistency?first=3654490), as kept in golang.org/x/mod,
# sumdb/tlog/testdata/argon2020/*.json (used there by TestCertificateTransparency).
ARGON2020_SIZE = 961984013
ARGON2020_ROOT = "dwlueapdd7LaOEnX2W2Wp9v2XE+KzejHRQGHwEx0oaM="
ARGON2020_OLD_SIZE = 3654490
ARGON2020_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="
ARGON2020_LEAF_INDEX = 10000
ARGON2020_LEAF_INPUT = (
    "AAAAAAFelPhqUwAAAAViMIIFXjCCBEagAwIBAgIRAOodHzZdqWIFzYyl/SovhCMwDQYJKoZIhvcNAQELBQAwgZAxCzAJBgNV"
    "BAYTAkdCMRswGQYDVQQIExJHcmVhdGVyIE1hbmNoZXN0ZXIxEDAOBgNVBAcTB1NhbGZvcmQxGjAYBgNVBAoTEUNPTU9ETyBD"
    "QSBMaW1pdGVkMTYwNAYDVQQDEy1DT01PRE8gUlNBIERvbWFpbiBWYWxpZGF0aW9uIFNlY3VyZSBTZXJ2ZXIgQ0EwHhcNMTcw"
    "MjE1MDAwMDAwWhcNMjAwNDE2MjM1OTU5WjBfMSEwHwYDVQQLExhEb21haW4gQ29udHJvbCBWYWxpZGF0ZWQxHTAbBgNVBAsT"
    "FFBvc2l0aXZlU1NMIFdpbGRjYXJkMRswGQYDVQQDDBIqLmxhbmRsb3Jkcy5jb20uYXUwggEiMA0GCSqGSIb3DQEBAQUAA4IB"
    "DwAwggEKAoIBAQCtPBKKHj4zdrGlCjgTHzb5gx9JCs97DwvBz60f14gDufF2haWbOxyJ0a3opAMsZnOr8HkARVCwxdqG/PTf"
    "ACcb0QM7FOlzvxGqxataTYiChwvkkif8F9GlJw69HuHgzhusPf1Ytfk3ps1PRC14MkyrS4kwPrk/Le4XdkqRpRw62wG4V6Ik"
    "bzsNMEOl1H8EgUbfyapdOcVxHjIzvBVy56fBRKG05Fr5wNq3Acak5kYZdNsLhhmlrqAfAjiombW3hb3V5blJdRC0BDdYHv2+"
    "zKey6LqJ1FDoXo6IzbzPpC+aifZy47YX+/N1U64Qn5xlDg7mOP8JXfkNJHbU1TJZHif5AgMBAAGjggHhMIIB3TAfBgNVHSME"
    "GDAWgBSQr2o6lFoL2JDqElZz30O0Oija5zAdBgNVHQ4EFgQUNQSLjkoz01I+iuuoC5lgEp0anhcwDgYDVR0PAQH/BAQDAgWg"
    "MAwGA1UdEwEB/wQCMAAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsGAQUFBwMCME8GA1UdIARIMEYwOgYLKwYBBAGyMQECAgcw"
    "KzApBggrBgEFBQcCARYdaHR0cHM6Ly9zZWN1cmUuY29tb2RvLmNvbS9DUFMwCAYGZ4EMAQIBMFQGA1UdHwRNMEswSaBHoEWG"
    "Q2h0dHA6Ly9jcmwuY29tb2RvY2EuY29tL0NPTU9ET1JTQURvbWFpblZhbGlkYXRpb25TZWN1cmVTZXJ2ZXJDQS5jcmwwgYUG"
    "CCsGAQUFBwEBBHkwdzBPBggrBgEFBQcwAoZDaHR0cDovL2NydC5jb21vZG9jYS5jb20vQ09NT0RPUlNBRG9tYWluVmFsaWRh"
    "dGlvblNlY3VyZVNlcnZlckNBLmNydDAkBggrBgEFBQcwAYYYaHR0cDovL29jc3AuY29tb2RvY2EuY29tMC8GA1UdEQQoMCaC"
    "EioubGFuZGxvcmRzLmNvbS5hdYIQbGFuZGxvcmRzLmNvbS5hdTANBgkqhkiG9w0BAQsFAAOCAQEACyHqxUzrexToY7tOv4+k"
    "yGPP2D27P1tQpyzeAl1bPObiMhNK2b9vvBLDWAaqm8c0YL1h+DBdLoWzf3xFsIkTCVCjWJTNSNlcYtgRk6or1s7jWsfXzWqs"
    "nPjPPmTIOCw7EfH7Yme3oxPs3UUsmShAgPwNohAtL9GqlqMiKM6v1WU3NHt01jEoNP23LRa6KeNK6AH6WHJykzL223IlhgXj"
    "HTeuQj6lR+TNrQXJuhwTXYe+20rrpPQxc1Pn7AqnvfWgmicRQ7gdIcr4V6+ecTvLfNOaJ0ZYe5G5giuAAdTm7F57pk04f4gy"
    "ZNYKrj88mvbkoriN8b6jcWExtrYO6bm2TwAA"
)
ARGON2020_AUDIT_PATH = [
    "T46AmJsuOM/gFiGlUp+IJJebp+1Z5qratFNW7U0JyOQ=",
    "9Jj1Feodn42uRYEfffkV4HF/EIPFQ5Zo9IwkxbQ2uhk=",
    "D53/1oCNebF4J59HHgioovKZxrmrKcVuCVhy3Izg8Ck=",
    "wSFDgGSrsXRPA+1c8WHoAFCsWeUv8NDyP/Q/SgsyVyY=",
    "516/RcwsgdwdzHn18v1dJHqBkgFUbNhmCIWOGjsMJaE=",
    "naTFY2ajLFgrgs5XUl+zJYZnnlJksLGsA1VYwpLfqbY=",
    "mKBRJo6qao+0Kdh/rhGkZUbHUAxMhrtrclrTpIbNjIg=",
    "Co4ueOFE7lpifLio94irxxsv1wFMMaK3tPu2ZQkHlro=",
    "yRgy800K6JMYCC05sWfqF2kvCg2riT/pVM+nEa6V5+0=",
    "n2O38XJZC8/Wpbwi9HhgVizlUyeUHVZvYyQB1607MRc=",
    "go3tAjuNfNSCj87y2Rg1xOroDknGN1eaf3cgvzObf7Q=",
    "8D0Mj3/J7ySSnFb0afIHYXv6rlOhECnsebY6XKi1IR8=",
    "6rcez46ZU8M5vPiWVMAUfJfAOV0pPP/mch/lYzZhj/M=",
    "2rtIeXrPvSdUyHc5maIgSAVB2BzaKaupWxSAiVayDE4=",
    "nniW/IMFQPN5xw8UsHFn7CRStYbm1gLu7NNa6kkRqJQ=",
    "mRPPi7sQS22MduIEyvcNzCNFqIt6kLwYPkNKrVtIcu8=",
    "JvTivzESNS9wHI8aph5a7uieVmtS/p9PciMZ5D6GyOo=",
    "UTyQd+Ym0wY4zG+qK806bBORwi1CSVvFQ/KknnqoZj8=",
    "hXODrqN+ff+U6zPqRQ+ZQKs6im1fPcxIerDSfNwflhE=",
    "II6GE+WY/DrpZzfHztLwkR46o37zVkNLCyPYlf68zA0=",
    "d609kWWcNBllbA8Jb/ad4XAVVGnScLRmtP8FYyr+Dck=",
    "rikBsP0G0gioXRpBFED2CzQdSLrGPvRd0bEcbEZw1rI=",
    "GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0=",
    "pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=",
    "f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA=",
    "WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=",
    "f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ=",
    "NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=",
    "C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI=",
    "nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=",
]
ARGON2020_CONSISTENCY = [
    "80Sfbj6UQEdVSZCSIgh9NMPj3vCBzcc1A48B2crJSWg=",
    "FZcrgAHUk6nNPviJZq8kEK6jCG1d18pJOFE45ZDc1TQ=",
    "Q67reWXmPBo1UfmwBap4Xi9PMPfFdUSSw3WGlRZdG7k=",
    "eJ7CyhR4PxzBxDIsWgrVYW1eFUb9ndgf46tFmiqVrxA=",
    "QrDwp062Grm5WY8KdrhFsBuuNjGzRox2Jb8PmVL5OYw=",
    "XM4YMjMEdLH/XJam/ZWyaP14k3cmsOtnPsOWQ54lW1s=",
    "SGiBh+jOTGccXU48ZzgQ88lRcBmtB4wz4oSDndv2QTg=",
    "WAS6txqNLYKGL1GdBdpqmV42TTfn6cJsuDsqLXuTCNI=",
    "QFmRS0rirUA7ZN3lxFjDncV+E1OCrn3NUB4RCp+5fzc=",
    "Hdbp7It2XBNZmNDBpCN/KPd7vfVqxgzwOosqVIaEA9E=",
    "mxvHL0ZiblBdD7j7pIa1jlfB0gSqfJ6oX0UGo7L0VsU=",
    "q5hjyvoW6TL/PThgcitpDcSTrnKX2p1+aqscqH2euRA=",
    "jTOWDqt3IHj2NVFeezyBz2ofpru+ztEywqKUAfFclKI=",
    "GIRn0w3HqJdvU9j1WVD//eR6lk2AaTVjyzjsJNP8U88=",
    "x52GJvxG81fnQBrgOTbll1A5tz95/LXK0Ag1NhB0r1I=",
    "6/0OqrcTgc3o5dD5PymmoC96lB9yLPFuTHVvLy8fSGk=",
    "Gf+iKLfcXO5l4JEFmsZvSdG5q1uEeWPfYLrds6pmjz0=",
    "DGuaco+McyM3AfRSF6qX7RwSetwe2ieYJmxw5e9rVx0=",
    "2tQJ9V32hnYp+fdpP6TcjmgJmLeNVOMKM0Ml1kk4cNU=",
    "3PapK+IkyJr8I9yAErAmzuZezzLMzsg+PfeRCgNW8NQ=",
    "s6xiYeejb+wtqHA+URJZ2I/SCPyIW8coP6aB00FJbMY=",
    "z9lSpmdTcr5M5ZzKlc4EPh3SrSypKFdk6JUF/UccaZU=",
    "GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0=",
    "pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=",
    "f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA=",
    "WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=",
    "f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ=",
    "NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=",
    "C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI=",
    "nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=",
]


def test_an_audit_path_from_a_real_ct_log_verifies():
    leaf_hash = hash_leaf(base64.b64decode(ARGON2020_LEAF_INPUT))
    proof = [base64.b64decode(h) for h in ARGON2020_AUDIT_PATH]
    root = base64.b64decode(ARGON2020_ROOT)
    verify_inclusion(leaf_hash, ARGON2020_LEAF_INDEX, ARGON2020_SIZE, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf_hash, ARGON2020_LEAF_INDEX + 1, ARGON2020_SIZE, proof, root)
    with pytest.raises(InclusionProofError):
        verify_inclusion(leaf_hash, ARGON2020_LEAF_INDEX, ARGON2020_SIZE, _flip(proof, 17), root)


def test_a_consistency_proof_from_a_real_ct_log_verifies():
    proof = [base64.b64decode(h) for h in ARGON2020_CONSISTENCY]
    old_root = base64.b64decode(ARGON2020_OLD_ROOT)
    new_root = base64.b64decode(ARGON2020_ROOT)
    verify_consistency(ARGON2020_OLD_SIZE, ARGON2020_SIZE, old_root, new_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(ARGON2020_OLD_SIZE + 1, ARGON2020_SIZE, old_root, new_root, proof)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(ARGON2020_OLD_SIZE, ARGON2020_SIZE, old_root, new_root, _flip(proof, 3))


# --- Stored hashes (golang.org/x/mod/sumdb/tlog layout) -------------------------------------------


def test_stored_hash_indexes_follow_the_tlog_layout():
    # Records 0..3 store: L0[0]; L0[1], L1[0]; L0[2]; L0[3], L1[1], L2[0].
    expected = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
    assert [stored_hash_index(level, n) for level, n in expected] == list(range(7))
    assert [stored_hash_count(n) for n in range(5)] == [0, 1, 3, 4, 7]


def test_split_stored_hash_index_inverts_stored_hash_index():
    for index in range(5000):
        level, n = split_stored_hash_index(index)
        assert stored_hash_index(level, n) == index


def test_a_record_stores_its_leaf_hash_and_the_subtrees_it_completes():
    tree = StoredHashTree()
    for h in LEAF_HASHES[:3]:
        tree.append(h)
    new = stored_hashes_for_record_hash(3, LEAF_HASHES[3], tree.read_hashes)
    assert new == [LEAF_HASHES[3], hash_children(LEAF_HASHES[2], LEAF_HASHES[3]), ROOTS[4]]


def test_stored_hash_roots_match_the_reference_vectors():
    tree = StoredHashTree()
    for h in LEAF_HASHES:
        tree.append(h)
    assert [tree.root(size) for size in range(1, 9)] == [ROOTS[size] for size in range(1, 9)]
    assert tree.root(0) == EMPTY_ROOT
    for index, size, proof in INCLUSION_PROOFS:
        assert tree.inclusion_proof(index, size) == [bytes.fromhex(h) for h in proof]
    for old, new, proof in CONSISTENCY_PROOFS:
        assert tree.consistency_proof(old, new) == [bytes.fromhex(h) for h in proof]


def test_stored_hashes_give_the_same_roots_and_proofs_for_every_small_tree():
    leaves = _leaf_hashes(40)
    tree = StoredHashTree()
    for t, h in enumerate(leaves, start=1):
        tree.append(h)
        assert tree.size == t
        assert tree.root() == root_from_leaf_hashes(leaves[:t])
    stored = tree.read_hashes(list(range(stored_hash_count(40))))
    for t in range(1, 41):
        for n in range(t):
            assert prove_record(t, n, tree.read_hashes) == inclusion_proof(leaves, n, t)
        for n in range(t + 1):
            assert prove_tree(t, n, tree.read_hashes) == consistency_proof(leaves, n, t)
    assert len(stored) == stored_hash_count(40)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 300))
def test_stored_hash_proofs_equal_the_definitions(size):
    leaves = _leaf_hashes(size)
    stored: list[bytes] = []

    def read_hashes(indexes):
        return [stored[i] for i in indexes]

    for n, h in enumerate(leaves):
        assert len(stored) == stored_hash_index(0, n)
        stored.extend(stored_hashes_for_record_hash(n, h, read_hashes))
    assert len(stored) == stored_hash_count(size)

    root = root_from_leaf_hashes(leaves)
    assert tree_hash(size, read_hashes) == root
    for n in range(size):
        proof = prove_record(size, n, read_hashes)
        assert proof == inclusion_proof(leaves, n, size)
        verify_inclusion(leaves[n], n, size, proof, root)
    for old in range(size + 1):
        proof = prove_tree(size, old, read_hashes)
        assert proof == consistency_proof(leaves, old, size)
        verify_consistency(old, size, tree_hash(old, read_hashes), root, proof)


def test_tree_hash_reads_at_most_one_plus_log2_n_hashes():
    leaves = _leaf_hashes(1000)
    tree = StoredHashTree()
    for h in leaves:
        tree.append(h)
    reads = []

    def read_hashes(indexes):
        reads.append(len(indexes))
        return tree.read_hashes(indexes)

    for n in (1, 2, 3, 255, 256, 257, 999, 1000):
        reads.clear()
        tree_hash(n, read_hashes)
        assert reads == [bin(n).count("1")]
        assert reads[0] <= 1 + n.bit_length()


def test_a_hash_reader_returning_the_wrong_count_is_an_error():
    with pytest.raises(ValueError, match="returned 0 hashes for 1 indexes"):
        stored_hashes_for_record_hash(1, LEAF_HASHES[1], lambda indexes: [])


def test_proofs_outside_the_tree_are_refused():
    tree = StoredHashTree()
    for h in LEAF_HASHES:
        tree.append(h)
    with pytest.raises(ValueError):
        tree.inclusion_proof(8)
    with pytest.raises(ValueError):
        tree.consistency_proof(9)
    with pytest.raises(ValueError):
        tree.root(9)
    with pytest.raises(ValueError):
        inclusion_proof(LEAF_HASHES, 0, 9)
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, 5, 4)
