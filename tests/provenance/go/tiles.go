// Prints the tiles of golang.org/x/mod/sumdb/tlog for the records given on standard input (one
// hex-encoded record a line): "<path> <hex tile data>" per tile of tlog.NewTiles(8, 0, n), then
// "root <hex>" for tlog.TreeHash, for comparison with provenance.standards.tiles.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

func main() {
	var stored hashes
	var n int64
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		record, err := hex.DecodeString(scanner.Text())
		if err != nil {
			panic(err)
		}
		add, err := tlog.StoredHashes(n, record, stored)
		if err != nil {
			panic(err)
		}
		stored = append(stored, add...)
		n++
	}
	for _, t := range tlog.NewTiles(8, 0, n) {
		data, err := tlog.ReadTileData(t, stored)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %s\n", t.Path(), hex.EncodeToString(data))
	}
	root, err := tlog.TreeHash(n, stored)
	if err != nil {
		panic(err)
	}
	fmt.Printf("root %s\n", hex.EncodeToString(root[:]))
}
