// Consistency proofs of govledger checked by golang.org/x/mod/sumdb/tlog.CheckTree.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type c struct {
	Old, New         int64
	OldRoot, NewRoot string
	Proof            []string
}

func h(s string) (out tlog.Hash) { b, _ := hex.DecodeString(s); copy(out[:], b); return }

func main() {
	raw, _ := os.ReadFile(os.Args[1])
	var cs []c
	if err := json.Unmarshal(raw, &cs); err != nil {
		panic(err)
	}
	bad := 0
	for _, x := range cs {
		var p tlog.TreeProof
		for _, s := range x.Proof {
			p = append(p, h(s))
		}
		if err := tlog.CheckTree(p, x.New, h(x.NewRoot), x.Old, h(x.OldRoot)); err != nil {
			bad++
			fmt.Println("FAIL", x.Old, x.New, err)
		}
	}
	fmt.Printf("tlog.CheckTree: %d of %d consistency proofs verify\n", len(cs)-bad, len(cs))
}
