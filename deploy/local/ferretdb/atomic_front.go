package main

// The atomic front: FerretDB v1 answers conditional writes (replace_one / update_one /
// findAndModify with a filter) by querying the matching documents and then writing them by _id in
// a second step, with nothing in between held. Two clients doing a compare-and-set on the same
// document at once can therefore both "succeed", and one update is lost (measured here: 4 writers x
// 25 compare-and-set increments kept 54 of 100). MongoDB itself makes every single-document write
// atomic, and griddesk's MongoStore relies on exactly that (docs/architecture.md, "Stores").
//
// So the clients talk to this front, which relays the MongoDB wire protocol to FerretDB over a
// Unix socket and lets only one write command per collection at a time through. Reads pass freely. The proxy
// understands just enough of the protocol to find a request's command name (OP_MSG section 0) and
// to follow replies flagged moreToCome; it never changes a byte.
//
// It also keeps FerretDB from deadlocking on its own connection pool (see writeBudget): an update or
// delete command holds one pooled storage connection per statement (the query that found the document
// stays open) while each statement's write asks for one more. Enough such commands at once take every
// connection and wait for ever — the "FerretDB stops answering" wedge seen during the kill tests.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

const (
	opMsg          = 2013
	maxMessage     = 48 << 20
	flagMoreToCome = 1 << 1
)

// Commands that change documents or collections: one at a time, as MongoDB's per-document atomicity
// requires of FerretDB's query-then-write updates.
var serialised = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true,
	"create": true, "drop": true, "dropDatabase": true, "createIndexes": true, "dropIndexes": true,
}

type atomicFront struct {
	backend string // FerretDB's Unix socket
	logger  *slog.Logger
	budget  *writeBudget
	mu      sync.Mutex
	writes  map[string]*sync.Mutex // one lock per collection name: writes to different collections overlap
}

func (f *atomicFront) lockFor(collection string) *sync.Mutex {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.writes == nil {
		f.writes = map[string]*sync.Mutex{}
	}
	lock, ok := f.writes[collection]
	if !ok {
		lock = &sync.Mutex{}
		f.writes[collection] = lock
	}
	return lock
}

func (f *atomicFront) serve(listener net.Listener) error {
	for {
		client, err := listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go f.handle(client)
	}
}

func (f *atomicFront) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("unix", f.backend)
	if err != nil {
		f.logger.Error("atomic front: cannot reach ferretdb", "error", err)
		return
	}
	defer server.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			return // the client went away
		}
		if err = f.relay(request, client, server); err != nil {
			f.logger.Debug("atomic front: connection ended", "error", err)
			return
		}
	}
}

// relay sends one request and passes back its replies, holding the write lock for a write command.
func (f *atomicFront) relay(request []byte, client, server net.Conn) error {
	if name, collection := command(request); serialised[name] {
		lock := f.lockFor(collection)
		lock.Lock()
		defer lock.Unlock()
		weight := f.budget.acquire(statements(request) + 1)
		defer f.budget.release(weight)
	}
	if _, err := server.Write(request); err != nil {
		return err
	}
	if moreToCome(request) {
		return nil // the client asked for no reply
	}
	for {
		reply, err := readMessage(server)
		if err != nil {
			return err
		}
		if _, err = client.Write(reply); err != nil {
			return err
		}
		if !moreToCome(reply) {
			return nil
		}
	}
}

func readMessage(conn net.Conn) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return nil, err
	}
	length := int(binary.LittleEndian.Uint32(size[:]))
	if length < 16 || length > maxMessage {
		return nil, fmt.Errorf("message length %d out of range", length)
	}
	message := make([]byte, length)
	copy(message, size[:])
	if _, err := io.ReadFull(conn, message[4:]); err != nil {
		return nil, err
	}
	return message, nil
}

func opCode(message []byte) uint32 { return binary.LittleEndian.Uint32(message[12:16]) }

func moreToCome(message []byte) bool {
	return opCode(message) == opMsg && len(message) >= 20 &&
		binary.LittleEndian.Uint32(message[16:20])&flagMoreToCome != 0
}

// command is the first key of an OP_MSG's body document (section kind 0) and, when that key's value is
// a string, the value: the collection the command works on. ("", "") for anything else.
func command(message []byte) (name, collection string) {
	if opCode(message) != opMsg || len(message) < 21 {
		return "", ""
	}
	for at := 20; at < len(message); {
		kind := message[at]
		at++
		if at+4 > len(message) {
			return "", ""
		}
		size := int(binary.LittleEndian.Uint32(message[at : at+4]))
		if kind == 0 {
			return firstElement(message[at:min(at+size, len(message))])
		}
		at += size // kind 1: a document sequence, sized including its own int32
	}
	return "", ""
}

// statements is how many documents a write command's OP_MSG carries in document sequences (section
// kind 1: pymongo's bulk writes); 1 when it has none (a single write names its statement in the body).
func statements(message []byte) int {
	count := 0
	for at := 20; at+5 <= len(message); {
		kind := message[at]
		size := int(binary.LittleEndian.Uint32(message[at+1 : at+5]))
		if size < 4 || at+1+size > len(message) {
			break
		}
		if kind == 1 {
			count += documentsIn(message[at+5 : at+1+size])
		}
		at += 1 + size
	}
	return max(count, 1)
}

// documentsIn counts the documents of a document sequence's payload: a C-string identifier, then
// BSON documents back to back.
func documentsIn(payload []byte) int {
	at := 0
	for at < len(payload) && payload[at] != 0 {
		at++
	}
	count := 0
	for at++; at+4 <= len(payload); count++ {
		size := int(binary.LittleEndian.Uint32(payload[at : at+4]))
		if size < 5 {
			break
		}
		at += size
	}
	return count
}

// firstElement reads a BSON document's first element: its name, and its value if it is a string.
func firstElement(document []byte) (name, value string) {
	const bsonString = 0x02
	if len(document) < 6 {
		return "", ""
	}
	kind, start := document[4], 5 // int32 size, then type byte, then the name as a C string
	end := start
	for end < len(document) && document[end] != 0 {
		end++
	}
	if end >= len(document) {
		return "", ""
	}
	name = string(document[start:end])
	if at := end + 1; kind == bsonString && at+4 <= len(document) {
		length := int(binary.LittleEndian.Uint32(document[at : at+4])) // includes the trailing NUL
		if length > 0 && at+4+length <= len(document) {
			value = string(document[at+4 : at+4+length-1])
		}
	}
	return name, value
}
