package main

import "sync"

// writeBudget bounds the pooled storage connections that write commands may hold at once.
//
// FerretDB v1 answers each statement of an update or delete command by opening a query (one pooled
// connection, held until the command ends: the handler closes its iterators only then) and writing
// the document it found with another connection. A command of n statements can so hold n+1
// connections, and commands on several collections at once can take the whole pool (PostgreSQL:
// pool_max_conns, 50 unless -pool-size says otherwise; SQLite: 100) with each waiting for one more:
// FerretDB deadlocks, every later request — ping included — waits for a connection for ever.
// Admitting write commands only while their statements + 1 fit in the budget (the pool minus what
// reads need) makes that impossible; a command bigger than the whole budget runs alone.
type writeBudget struct {
	mu       sync.Mutex
	freed    *sync.Cond
	capacity int
	used     int
}

func newWriteBudget(capacity int) *writeBudget {
	b := &writeBudget{capacity: max(capacity, 1)}
	b.freed = sync.NewCond(&b.mu)
	return b
}

// acquire waits until weight connections are free and takes them; it returns what it took (at most
// the whole budget), to be given back with release.
func (b *writeBudget) acquire(weight int) int {
	weight = min(weight, b.capacity)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+weight > b.capacity {
		b.freed.Wait()
	}
	b.used += weight
	return weight
}

func (b *writeBudget) release(weight int) {
	b.mu.Lock()
	b.used -= weight
	b.mu.Unlock()
	b.freed.Broadcast()
}
