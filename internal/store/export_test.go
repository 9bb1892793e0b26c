package store

import (
	"context"
	"io/fs"
)

// MigrationsApplied counts the rows of schema_migrations and the embedded
// migration files, for the external tests.
func MigrationsApplied(ctx context.Context, db *DB) (applied, files int, err error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, 0, err
	}
	err = db.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&applied)
	return applied, len(names), err
}

// SplitStatements exposes splitStatements.
var SplitStatements = splitStatements

// Rebind exposes rebind for a dialect by name.
func Rebind(backend, q string) string {
	d := sqlite
	if backend == "postgres" {
		d = postgres
	}
	return (&DB{dialect: d}).rebind(q)
}
