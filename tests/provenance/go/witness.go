// The other side of Provenant's witness and log, written with golang.org/x/mod/sumdb/note and tlog
// (C2SP signed-note, tlog-checkpoint) and, for C2SP tlog-cosignature (cosignature/v1, which x/mod
// does not implement), crypto/ed25519 over the spec's message. Reads one JSON request on standard
// input and writes one JSON answer.
//
//	{"mode": "log", "name": ..., "records": [hex...], "old": m}
//	  a Go log: the checkpoints of sizes m and len(records), signed by a new key, and the
//	  consistency proof between them -> {"vkey", "old_note", "new_note", "proof": [base64...]}
//	{"mode": "check", "vkey": ..., "note": ..., "old_size": m, "old_root": base64, "proof": [...],
//	 "witness_vkey": ...}
//	  Provenant's checkpoint: its log signature (note.Open), the consistency proof from m
//	  (tlog.CheckTree) and the witness's cosignature line on it -> {"size", "cosigned_at"}
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Mode        string   `json:"mode"`
	Name        string   `json:"name"`
	Records     []string `json:"records"`
	Old         int64    `json:"old"`
	Vkey        string   `json:"vkey"`
	Note        string   `json:"note"`
	OldSize     int64    `json:"old_size"`
	OldRoot     string   `json:"old_root"`
	Proof       []string `json:"proof"`
	WitnessVkey string   `json:"witness_vkey"`
}

type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

func checkpointText(origin string, size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
}

func goLog(req request) (map[string]any, error) {
	var stored hashes
	for n, text := range req.Records {
		record, err := hex.DecodeString(text)
		if err != nil {
			return nil, err
		}
		add, err := tlog.StoredHashes(int64(n), record, stored)
		if err != nil {
			return nil, err
		}
		stored = append(stored, add...)
	}
	size := int64(len(req.Records))
	skey, vkey, err := note.GenerateKey(rand.Reader, req.Name)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	signed := map[int64]string{}
	for _, n := range []int64{req.Old, size} {
		root, err := tlog.TreeHash(n, stored)
		if err != nil {
			return nil, err
		}
		msg, err := note.Sign(&note.Note{Text: checkpointText(req.Name, n, root)}, signer)
		if err != nil {
			return nil, err
		}
		signed[n] = string(msg)
	}
	proof, err := tlog.ProveTree(size, req.Old, stored)
	if err != nil {
		return nil, err
	}
	encoded := make([]string, len(proof))
	for i, h := range proof {
		encoded[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return map[string]any{"vkey": vkey, "old_note": signed[req.Old], "new_note": signed[size], "proof": encoded}, nil
}

func decodeHash(text string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != len(h) {
		return h, fmt.Errorf("not a base64 SHA-256 hash: %q", text)
	}
	copy(h[:], raw)
	return h, nil
}

// cosignedAt checks the cosignature/v1 line of the witness named by vkey ("name+hash+base64(0x04 ||
// public key)") on the checkpoint text (the note's text, which the signature lines follow after a
// blank line) and returns its timestamp.
func cosignedAt(msg, text, vkey string) (uint64, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return 0, errors.New("malformed witness vkey")
	}
	name := parts[0]
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 0x04 {
		return 0, errors.New("the witness vkey is not a cosignature/v1 Ed25519 key")
	}
	public := ed25519.PublicKey(key[1:])
	digest := sha256.Sum256(append([]byte(name+"\n\x04"), public...))
	prefix := "\u2014 " + name + " "
	for _, line := range strings.Split(msg[len(text)+1:], "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(line[len(prefix):])
		if err != nil || len(sig) != 4+8+ed25519.SignatureSize || !bytes.Equal(sig[:4], digest[:4]) {
			continue
		}
		timestamp := binary.BigEndian.Uint64(sig[4:12])
		signed := []byte("cosignature/v1\ntime " + strconv.FormatUint(timestamp, 10) + "\n" + text)
		if ed25519.Verify(public, signed, sig[12:]) {
			return timestamp, nil
		}
		return 0, errors.New("the cosignature does not verify")
	}
	return 0, errors.New("no cosignature of the witness")
}

func check(req request) (map[string]any, error) {
	verifier, err := note.NewVerifier(req.Vkey)
	if err != nil {
		return nil, err
	}
	opened, err := note.Open([]byte(req.Note), note.VerifierList(verifier))
	if err != nil {
		return nil, fmt.Errorf("note.Open: %w", err)
	}
	lines := strings.Split(opened.Text, "\n")
	if len(lines) < 4 {
		return nil, errors.New("not a checkpoint")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, err
	}
	root, err := decodeHash(lines[2])
	if err != nil {
		return nil, err
	}
	oldRoot, err := decodeHash(req.OldRoot)
	if err != nil {
		return nil, err
	}
	proof := make(tlog.TreeProof, len(req.Proof))
	for i, text := range req.Proof {
		if proof[i], err = decodeHash(text); err != nil {
			return nil, err
		}
	}
	if err := tlog.CheckTree(proof, size, root, req.OldSize, oldRoot); err != nil {
		return nil, fmt.Errorf("tlog.CheckTree: %w", err)
	}
	at, err := cosignedAt(req.Note, opened.Text, req.WitnessVkey)
	if err != nil {
		return nil, err
	}
	return map[string]any{"size": size, "cosigned_at": at}, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out map[string]any
	var err error
	switch req.Mode {
	case "log":
		out, err = goLog(req)
	case "check":
		out, err = check(req)
	default:
		err = fmt.Errorf("unknown mode %q", req.Mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
