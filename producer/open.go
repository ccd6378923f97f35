package producer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mmlite/mmlite/internal/bom"
)

// errLooksLikeJSONL: CSV was expected (the default for stdin and for any
// file not named .jsonl or .ndjson), but the input starts with '{'.
var errLooksLikeJSONL = errors.New("the input looks like JSON Lines: use --format jsonl")

// errLooksLikeJSONArray: CSV was expected, but the input starts with '['
// (a "recipients" array of POST /v1/campaigns saved as a file, say).
var errLooksLikeJSONArray = errors.New("the input looks like a JSON array: write one recipient object per line (JSON Lines) and use --format jsonl")

// OpenRecipients opens a recipients list, a file at path or stdin ("-"),
// as a Source of format ("csv", "jsonl", or "" for the file's extension,
// else CSV; CSV that starts like JSON Lines is refused). A CSV's header,
// or the first line of JSON Lines, is read and checked before it returns
// (waiting for it on stdin): a file that cannot be a recipients list
// (empty, a wrong header, JSON Lines whose first line is no JSON object)
// is refused, naming it, before its campaign is registered. Its reads end with ctx (see untilDone); close
// closes the file.
func OpenRecipients(ctx context.Context, stdin io.Reader, path, format string) (Source, func(), error) {
	r := io.NopCloser(stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		r = f
		if format == "" {
			switch strings.ToLower(filepath.Ext(path)) {
			case ".jsonl", ".ndjson":
				format = "jsonl"
			}
		}
	}
	r = untilDone(ctx, r)
	closeFn := func() { _ = r.Close() }
	switch format {
	case "", "csv":
		br := bufio.NewReader(r)
		switch LooksLikeJSON(br) {
		case '{':
			closeFn()
			return nil, nil, fmt.Errorf("%s: %w", inputName(path), errLooksLikeJSONL)
		case '[':
			closeFn()
			return nil, nil, fmt.Errorf("%s: %w", inputName(path), errLooksLikeJSONArray)
		}
		src := NewCSVSource(br)
		if err := src.ReadHeader(); err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("%s: %w", inputName(path), err)
		}
		return src, closeFn, nil
	case "jsonl":
		src := NewJSONLSource(r)
		if err := src.ReadFirst(); err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("%s: %w", inputName(path), jsonlFirstErr(err))
		}
		return src, closeFn, nil
	}
	closeFn()
	return nil, nil, fmt.Errorf("--format must be csv or jsonl, got %q", format)
}

// jsonlFirstErr adds to an error of JSONLSource.ReadFirst how to read the
// input instead (a flag of mmlite enqueue).
func jsonlFirstErr(err error) error {
	var nj *NotJSONLinesError
	switch {
	case err == io.EOF:
		return ErrEmptyJSONL
	case !errors.As(err, &nj):
		return err
	}
	return fmt.Errorf("%w: %s", err, nj.Hint("use --format csv"))
}

// ErrEmptyJSONL: a JSON Lines input with no line but blank ones, refused as
// an empty CSV is.
var ErrEmptyJSONL = errors.New(`line 1: the file is empty: want one JSON object {"to": ...} per line`)

// inputName names the input at path in an error: the path, or stdin.
func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// untilDone reads r until ctx ends; then a Read returns the context's
// cause at once: a stdin (or a FIFO) that sends nothing would otherwise
// hold an interrupted enqueue for ever, and an input that ends after the
// signal is not known to be the whole list. A Read of r still waiting
// then ends with r, or with the process.
func untilDone(ctx context.Context, r io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, r)
		pw.CloseWithError(err) // nil: io.EOF
	}()
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
	return &ctxReader{ctx: ctx, pr: pr, r: r, stop: stop}
}

type ctxReader struct {
	ctx  context.Context
	pr   *io.PipeReader
	r    io.Closer
	stop func() bool
}

func (c *ctxReader) Read(p []byte) (int, error) {
	n, err := c.pr.Read(p)
	if err != nil && c.ctx.Err() != nil {
		err = context.Cause(c.ctx)
	}
	return n, err
}

func (c *ctxReader) Close() error {
	c.stop()
	_ = c.pr.Close() // the copy stops at its next write
	return c.r.Close()
}

// LooksLikeJSON returns the first byte after a BOM and blank space when it
// is '{' or '[', which no CSV header can start with (its columns are to,
// body.*, header.*, button.*, meta.*), else 0. It reads ahead only as far
// as that byte, so that a slow stdin is not waited for.
func LooksLikeJSON(br *bufio.Reader) byte {
	_ = bom.Skip(br) // a UTF-16 file is refused by the source that reads it
	for n := 1; n <= br.Size(); n++ {
		b, err := br.Peek(n)
		if err != nil {
			return 0
		}
		switch b[n-1] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return b[n-1]
		}
		return 0
	}
	return 0
}
