package mockserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// A Payment Request keeps the initial authorize that stepped up for as long as it is stored,
// which under load is thousands of requests per tenant. Kept decoded, the body of a typical
// purchase (two line items, a customer, a shipping address) is some twenty separate allocations
// of about 1.2 KiB in all; as JSON it is 0.7 KiB, most of it field names. Packed it is the values
// alone, about 0.25 KiB in one allocation: each field of the Go types in the order they declare
// them, strings as their length and bytes, integers as varints, a pointer as a presence byte and
// its value, a slice as its length plus one (zero for nil) and its elements, a time.Time in its
// binary form. The Go types are the schema, so a field added to them is packed without more code;
// the packed bytes never leave the process, so the order may change with the types.

// errPacked reports packed bytes that do not decode as their type: the mock's own fault, since
// only pack writes them.
var errPacked = errors.New("packed value is corrupt")

var timeType = reflect.TypeFor[time.Time]()

// pack appends the packed form of v to buf.
func pack(buf []byte, v reflect.Value) []byte {
	switch v.Kind() {
	case reflect.String:
		buf = binary.AppendUvarint(buf, uint64(v.Len()))
		return append(buf, v.String()...)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(buf, v.Int())
	case reflect.Bool:
		if v.Bool() {
			return append(buf, 1)
		}
		return append(buf, 0)
	case reflect.Pointer:
		if v.IsNil() {
			return append(buf, 0)
		}
		return pack(append(buf, 1), v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(buf, 0)
		}
		buf = binary.AppendUvarint(buf, uint64(v.Len())+1)
		for i := range v.Len() {
			buf = pack(buf, v.Index(i))
		}
		return buf
	case reflect.Struct:
		if v.Type() == timeType {
			b, err := v.Interface().(time.Time).MarshalBinary()
			if err != nil {
				// Only a zone offset that is not a whole minute fails, which no parsed time has.
				panic(fmt.Sprintf("mockserver: packing a time: %v", err))
			}
			return append(binary.AppendUvarint(buf, uint64(len(b))), b...)
		}
		t := v.Type()
		for i := range v.NumField() {
			if t.Field(i).IsExported() {
				buf = pack(buf, v.Field(i))
			}
		}
		return buf
	}
	// The packed types are the mock's own; a field of another kind is a change to them that
	// TestPackRoundTrip catches.
	panic("mockserver: cannot pack a " + v.Type().String())
}

// unpacker reads what pack wrote.
type unpacker struct{ b []byte }

// unpack sets v, which must be settable, from the packed form at the start of u.b.
func (u *unpacker) unpack(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		b, err := u.bytes()
		v.SetString(string(b))
		return err
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(u.b)
		if n <= 0 {
			return errPacked
		}
		u.b = u.b[n:]
		v.SetInt(x)
		return nil
	case reflect.Bool:
		on, err := u.flag()
		v.SetBool(on)
		return err
	case reflect.Pointer:
		if on, err := u.flag(); !on || err != nil {
			return err
		}
		v.Set(reflect.New(v.Type().Elem()))
		return u.unpack(v.Elem())
	case reflect.Slice:
		n, err := u.uvarint()
		if n == 0 || err != nil {
			return err
		}
		// Every element takes at least one byte, so a length beyond what is left is corrupt
		// rather than a reason to allocate.
		if n-1 > uint64(len(u.b)) {
			return errPacked
		}
		v.Set(reflect.MakeSlice(v.Type(), int(n-1), int(n-1)))
		for i := range int(n - 1) {
			if err := u.unpack(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Struct:
		if v.Type() == timeType {
			b, err := u.bytes()
			if err != nil {
				return err
			}
			return v.Addr().Interface().(*time.Time).UnmarshalBinary(b)
		}
		t := v.Type()
		for i := range v.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if err := u.unpack(v.Field(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("cannot unpack a %s", v.Type())
}

func (u *unpacker) uvarint() (uint64, error) {
	x, n := binary.Uvarint(u.b)
	if n <= 0 {
		return 0, errPacked
	}
	u.b = u.b[n:]
	return x, nil
}

func (u *unpacker) flag() (bool, error) {
	if len(u.b) == 0 || u.b[0] > 1 {
		return false, errPacked
	}
	on := u.b[0] == 1
	u.b = u.b[1:]
	return on, nil
}

// bytes reads a length and that many bytes.
func (u *unpacker) bytes() ([]byte, error) {
	n, err := u.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(u.b)) {
		return nil, errPacked
	}
	b := u.b[:n]
	u.b = u.b[n:]
	return b, nil
}

// packValue returns the packed form of *v in an allocation of its own, sized to fit.
func packValue[T any](v *T) []byte {
	buf := pack(make([]byte, 0, 512), reflect.ValueOf(v).Elem())
	return append([]byte(nil), buf...)
}

// unpackValue decodes what packValue returned into a fresh value.
func unpackValue[T any](b []byte) (*T, error) {
	v := new(T)
	u := unpacker{b: b}
	if err := u.unpack(reflect.ValueOf(v).Elem()); err != nil {
		return nil, err
	}
	if len(u.b) != 0 {
		return nil, errPacked
	}
	return v, nil
}
