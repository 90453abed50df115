package memdb

import (
	"fmt"
	"strings"
)

// pairIndex indexes objects by two strings read by fields, such as (partner id, idempotency
// key). An object with either string empty is not indexed, which is how an optional value (a
// payment without an Idempotency-Key) stays out of a unique index.
type pairIndex func(obj any) (first, second string)

// pairOf returns the pair index of the objects of type T, read by fields.
func pairOf[T any](fields func(T) (first, second string)) pairIndex {
	return func(obj any) (string, string) {
		o, ok := obj.(T)
		if !ok {
			return "", ""
		}
		return fields(o)
	}
}

// FromObject implements memdb.SingleIndexer.
func (f pairIndex) FromObject(obj any) (bool, []byte, error) {
	a, b := f(obj)
	if a == "" || b == "" {
		return false, nil, nil
	}
	return true, pairKey(a, b), nil
}

// FromArgs implements memdb.Indexer: the two strings, in order.
func (f pairIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("pair index: want 2 arguments, got %d", len(args))
	}
	a, ok1 := args[0].(string)
	b, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("pair index: want two strings, got %T and %T", args[0], args[1])
	}
	return pairKey(a, b), nil
}

// pairKey joins the strings with NUL, which neither contains, and ends with NUL as go-memdb's
// own string indexes do, so no key is a prefix of another.
func pairKey(a, b string) []byte {
	var sb strings.Builder
	sb.Grow(len(a) + len(b) + 2)
	sb.WriteString(a)
	sb.WriteByte(0)
	sb.WriteString(b)
	sb.WriteByte(0)
	return []byte(sb.String())
}
