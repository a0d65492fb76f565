package bolt

import (
	"context"
	"sync"
)

type opKind uint8

const (
	opPut opKind = iota
	opDelete
	opTouch
	opCreate  // put only if absent or expired; see conditional.go
	opReplace // put only if live
)

type op struct {
	ctx   context.Context
	kind  opKind
	key   []byte
	value []byte // opPut, opCreate, opReplace: the encoded entry, which names its index key if filed (index.go)
	nanos int64  // opTouch: the new expiry header
	drop  bool   // opTouch, opCreate, opReplace: the new expiry has passed, delete instead of putting

	result error      // set by the leader, valid once sent on done
	done   chan error // buffered; receives errLead or the final result
}

var opPool = sync.Pool{New: func() any { return &op{done: make(chan error, 1)} }}

func getOp(ctx context.Context, kind opKind, key []byte) *op {
	o := opPool.Get().(*op)
	o.ctx, o.kind, o.key = ctx, kind, key
	return o
}

func putOp(o *op) {
	*o = op{done: o.done}
	opPool.Put(o)
}
