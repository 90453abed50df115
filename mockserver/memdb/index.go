package memdb

import (
	"errors"
	"hash/maphash"
	"strings"

	"github.com/hashicorp/go-memdb"
)

// table is the one go-memdb table, holding the records of every kind: a write transaction then
// commits one index tree besides go-memdb's root however many kinds it writes, and the root holds
// one entry, so its path is short.
const table = "objects"

// hashBytes and hashBits shape the start of a key: hashBytes bytes of hashBits bits each, taken
// from a hash of the id. A radix tree branches on a key's bytes, and ids branch late and narrow
// (they share long prefixes such as "krn:payment:eu1:request:", then hexadecimal digits, 16 ways
// a byte), so a write copies a node for every 16-fold of the table's size, and each copy costs
// about five allocations (the node, its channel, prefix and edges, an entry in the transaction's
// cache). Keys that start with the hash branch 32 ways on each of its bytes first: at 5,000
// Payment Requests a write allocated 78 times instead of 92 (BenchmarkPutPaymentRequest,
// full-5000). Wider bytes cut allocations further but copy more edges each, so the bytes
// allocated grow (at 6 bits, 73 allocations but 13% more bytes).
const (
	hashBytes = 2
	hashBits  = 5
)

// key returns, appended to buf, the key of the object of kind k stored under id: the hash bytes,
// the kind's byte, then the id (which ends the key, so it needs no escaping). The hash is of the
// id or, for the webhook package's kinds, whose ids are "<account id>\x00<id>", of the account
// id, so that an account's objects share a prefix to scan.
func (s *Store) key(buf []byte, k kind, id string) []byte {
	group := id
	switch k {
	case kindSigningKey, kindWebhook, kindDelivery:
		group, _, _ = strings.Cut(id, "\x00")
	}
	sum := maphash.String(s.seed, group)
	for i := range hashBytes {
		buf = append(buf, byte(sum>>(64-hashBits*(i+1)))&(1<<hashBits-1))
	}
	return append(append(buf, byte(k)), id...)
}

// kindOf returns the kind of the record stored under key.
func kindOf(key []byte) kind { return kind(key[hashBytes]) }

// keyIndex is the table's one index. It reads the key a record carries, computed once when the
// record is made, where go-memdb's StringFieldIndex finds the field by reflection and allocates
// a fresh key each time go-memdb asks, several times a write.
type keyIndex struct{}

// probe is the argument a lookup passes to go-memdb, which hands it on to keyIndex.FromArgs: a
// pointer, so that neither boxing it into go-memdb's variadic arguments nor the key it carries
// allocates.
type probe struct{ key []byte }

var errProbe = errors.New("memdb: the index takes one *probe")

var _ interface {
	memdb.SingleIndexer
	memdb.PrefixIndexer
} = keyIndex{}

func (keyIndex) FromObject(obj any) (bool, []byte, error) {
	return true, obj.(*record).key, nil
}

func (keyIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, errProbe
	}
	p, ok := args[0].(*probe)
	if !ok {
		return nil, errProbe
	}
	return p.key, nil
}

// PrefixFromArgs serves prefix scans ("id_prefix"): the probe's key is the prefix.
func (i keyIndex) PrefixFromArgs(args ...any) ([]byte, error) { return i.FromArgs(args...) }
