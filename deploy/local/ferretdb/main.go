// Command ferretdb-local runs an embedded FerretDB v1 (MongoDB wire protocol)
// with the SQLite storage handler, for griddesk tests and local runs.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`
// builds a binary that panics at start (build/version/version.txt is generated at
// release time and is absent from the module); the embeddable package does not
// need that file. Built by deploy/local/backends.sh with -tags ferretdb_no_postgresql.
//
// Usage:
//
//	ferretdb-local -listen 127.0.0.1:27018 -dir /path/to/sqlite/dir
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
	dir := flag.String("dir", "", "SQLite data directory (required; created if missing)")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-local: -dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		logger.Error("resolve -dir", "dir", *dir, "error", err)
		os.Exit(1)
	}
	// FerretDB requires the directory to exist.
	if err = os.MkdirAll(abs, 0o755); err != nil {
		logger.Error("create -dir", "dir", abs, "error", err)
		os.Exit(1)
	}
	// The SQLite URL must start with "file:" and end with "/".
	sqliteURL := "file:" + strings.TrimSuffix(abs, "/") + "/"

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	socketDir, err := os.MkdirTemp("", "ferretdb-local-")
	if err != nil {
		logger.Error("create socket dir", "error", err)
		os.Exit(1)
	}
	defer os.RemoveAll(socketDir)
	socket := filepath.Join(socketDir, "ferretdb.sock")

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		logger.Error("ferretdb.New failed", "error", err)
		os.Exit(1)
	}

	logger.Info("ferretdb-local starting", "listen", *listen, "sqlite", sqliteURL, "pid", os.Getpid())

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
