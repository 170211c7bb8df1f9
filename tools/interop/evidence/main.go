// Independent check of govledger evidence with golang.org/x/mod/sumdb/note and tlog
// (the Go checksum database's own packages, Debian golang-golang-x-mod-dev 0.7.0).
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type entry struct {
	EntryHash      string   `json:"entry_hash"`
	Seq            int64    `json:"seq"`
	InclusionProof []string `json:"inclusion_proof"`
}
type evidence struct {
	Checkpoint  string  `json:"checkpoint"`
	VerifierKey string  `json:"verifier_key"`
	Entries     []entry `json:"entries"`
}

func must(err error) {
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
}

func main() {
	raw, err := os.ReadFile(os.Args[1])
	must(err)
	var ev evidence
	must(json.Unmarshal(raw, &ev))
	witnessVkey := strings.TrimSpace(os.Args[2])

	// 1. the ledger's signature on the checkpoint, by x/mod's note package (unknown
	//    signature lines, such as the witness's cosignature, are ignored as signed-note says)
	v, err := note.NewVerifier(ev.VerifierKey)
	must(err)
	n, err := note.Open([]byte(ev.Checkpoint), note.VerifierList(v))
	must(err)
	fmt.Printf("note: %d verified signature(s) by %s, %d unverified line(s)\n",
		len(n.Sigs), n.Sigs[0].Name, len(n.UnverifiedSigs))
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	must(err)
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	must(err)
	var root tlog.Hash
	copy(root[:], rootBytes)

	// 2. every entry's inclusion proof, by x/mod's tlog package (RFC 6962 hashing)
	for _, e := range ev.Entries {
		leaf, err := hex.DecodeString(e.EntryHash)
		must(err)
		var proof tlog.RecordProof
		for _, p := range e.InclusionProof {
			b, err := hex.DecodeString(p)
			must(err)
			var h tlog.Hash
			copy(h[:], b)
			proof = append(proof, h)
		}
		must(tlog.CheckRecord(proof, size, root, e.Seq, tlog.RecordHash(leaf)))
	}
	fmt.Printf("tlog: %d inclusion proofs verify against size %d\n", len(ev.Entries), size)

	// 3. the witness's cosignature/v1, restated from c2sp.org/tlog-cosignature
	parts := strings.SplitN(witnessVkey, "+", 3)
	keyBytes, err := base64.StdEncoding.DecodeString(parts[2])
	must(err)
	if keyBytes[0] != 0x04 {
		must(fmt.Errorf("witness key type %x", keyBytes[0]))
	}
	idInput := append(append([]byte(parts[0]), '\n'), keyBytes...)
	id := sha256.Sum256(idInput)
	if hex.EncodeToString(id[:4]) != parts[1] {
		must(fmt.Errorf("key id mismatch"))
	}
	found := false
	for _, s := range n.UnverifiedSigs {
		if s.Name != parts[0] || s.Hash != binary.BigEndian.Uint32(id[:4]) {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(s.Base64)
		must(err)
		ts := binary.BigEndian.Uint64(blob[4:12])
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, n.Text)
		if !ed25519.Verify(ed25519.PublicKey(keyBytes[1:]), []byte(msg), blob[12:]) {
			must(fmt.Errorf("cosignature does not verify"))
		}
		fmt.Printf("cosignature/v1 by %s at %d verifies\n", s.Name, ts)
		found = true
	}
	if !found {
		must(fmt.Errorf("no cosignature by %s", parts[0]))
	}
}
