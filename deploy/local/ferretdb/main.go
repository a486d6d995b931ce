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
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27018", "TCP listen address (host:port)")
	handler := flag.String("handler", "postgresql", "storage handler: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL (required with -handler postgresql)")
	dir := flag.String("dir", "", "SQLite data directory (required with -handler sqlite; created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	config := ferretdb.Config{Logger: logger, Handler: *handler}
	switch *handler {
	case "postgresql":
		if *postgresqlURL == "" {
			fmt.Fprintln(os.Stderr, "ferretdb-local: -postgresql-url is required with -handler postgresql")
			os.Exit(2)
		}
		config.PostgreSQLURL = *postgresqlURL
	case "sqlite":
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

	front, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("listen", "address", *listen, "error", err)
		os.Exit(1)
	}
	go func() {
		<-ctx.Done()
		front.Close()
	}()
	go func() {
		if err := (&atomicFront{backend: socket, logger: logger}).serve(front); err != nil {
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
