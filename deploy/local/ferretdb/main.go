// Command ferretdb-local runs an embedded FerretDB v1 (MongoDB wire protocol)
// on PostgreSQL (default) or SQLite storage, for griddesk tests and local runs.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// builds a binary that panics at start (build/version/version.txt is generated at
// release time and is absent from the module); the embeddable package does not
// need that file. Built by deploy/local/backends.sh with both handlers.
//
// Usage:
//
//	ferretdb-local -listen 127.0.0.1:27018 -postgresql-url postgres://user@127.0.0.1:27019/ferretdb
//	ferretdb-local -listen 127.0.0.1:27018 -handler sqlite -dir /path/to/sqlite/dir
//
// The PostgreSQL handler pushes scalar equality on any field down to PostgreSQL; the SQLite handler
// only a filter that is exactly {_id: <string>} (every other filter scans the collection in Go).
//
// FerretDB itself listens on a private Unix socket; clients reach it through the atomic front
// (atomic_front.go), which makes conditional writes atomic as they are on MongoDB.
//
// Logs go to stderr. SIGTERM / SIGINT cancel the context and shut down cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // -pprof: where FerretDB's own CPU goes (go tool pprof http://ADDR/debug/pprof/profile)
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP listen address (host:port)")
	handler := flag.String("handler", "postgresql", "storage handler: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL (required with -handler postgresql)")
	poolSize := flag.Int("pool-size", 120, "PostgreSQL connections FerretDB may open (pool_max_conns)")
	dir := flag.String("dir", "", "SQLite data directory (required with -handler sqlite; created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	pprofAddr := flag.String("pprof", "", "serve Go's /debug/pprof on this address (e.g. 127.0.0.1:6060); off if empty")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	config := ferretdb.Config{Logger: logger, Handler: *handler}
	// What write commands may hold of FerretDB's storage connections (see write_budget.go); the rest
	// is left to reads, which hold one each.
	var writeConnections int
	switch *handler {
	case "postgresql":
		if *postgresqlURL == "" {
			fmt.Fprintln(os.Stderr, "ferretdb-local: -postgresql-url is required with -handler postgresql")
			os.Exit(2)
		}
		withPool, err := withPoolSize(*postgresqlURL, *poolSize)
		if err != nil {
			logger.Error("-postgresql-url", "error", err)
			os.Exit(2)
		}
		config.PostgreSQLURL = withPool
		writeConnections = *poolSize - readConnections
	case "sqlite":
		writeConnections = sqlitePoolSize - readConnections
		sqliteURL, err := sqliteURLFor(*dir)
		if err != nil {
			logger.Error("sqlite -dir", "dir", *dir, "error", err)
			os.Exit(2)
		}
		config.SQLiteURL = sqliteURL
	default:
		fmt.Fprintf(os.Stderr, "ferretdb-local: -handler must be postgresql or sqlite, not %q\n", *handler)
		os.Exit(2)
	}

	if *pprofAddr != "" {
		go func() { logger.Error("pprof stopped", "error", http.ListenAndServe(*pprofAddr, nil)) }()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	socketDir, err := os.MkdirTemp("", "ferretdb-local-")
	if err != nil {
		logger.Error("create socket dir", "error", err)
		os.Exit(1)
	}
	defer os.RemoveAll(socketDir)
	socket := filepath.Join(socketDir, "ferretdb.sock")

	config.Listener = ferretdb.ListenerConfig{Unix: socket}
	f, err := ferretdb.New(&config)
	if err != nil {
		logger.Error("ferretdb.New failed", "error", err)
		os.Exit(1)
	}

	logger.Info("ferretdb-local starting", "listen", *listen, "handler", *handler,
		"postgresql", config.PostgreSQLURL, "sqlite", config.SQLiteURL, "pid", os.Getpid())

	listener, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("listen", "address", *listen, "error", err)
		os.Exit(1)
	}
	go func() {
		<-ctx.Done()
		listener.Close()
	}()
	go func() {
		front := &atomicFront{backend: socket, logger: logger, budget: newWriteBudget(writeConnections)}
		if err := front.serve(listener); err != nil {
			logger.Error("atomic front stopped", "error", err)
			stop()
		}
	}()

	// Run blocks until ctx is cancelled; listeners are ready shortly after it starts.
	if err = f.Run(ctx); err != nil {
		logger.Error("ferretdb.Run failed", "error", err)
		os.Exit(1)
	}

	logger.Info("ferretdb-local stopped")
}

const (
	readConnections = 40  // storage connections kept for reads, out of the pool
	sqlitePoolSize  = 100 // FerretDB v1.24.2's SQLite handler: SetMaxOpenConns(100), not configurable
)

// withPoolSize sets pool_max_conns in a PostgreSQL URL (FerretDB's default is 50) unless it is there.
func withPoolSize(raw string, size int) (string, error) {
	if size <= readConnections {
		return "", fmt.Errorf("-pool-size must be more than %d (the connections kept for reads)", readConnections)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	values := u.Query()
	if !values.Has("pool_max_conns") {
		values.Set("pool_max_conns", strconv.Itoa(size))
	}
	u.RawQuery = values.Encode()
	return u.String(), nil
}

// sqliteURLFor turns a data directory into the URL FerretDB's SQLite handler wants: it must start with
// "file:", end with "/", and name a directory that exists.
func sqliteURLFor(dir string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("-dir is required with -handler sqlite")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err = os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	return "file:" + strings.TrimSuffix(abs, "/") + "/", nil
}
