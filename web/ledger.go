package web

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
	"ziyuan/rights"
)

// ledgerError turns the ledger's neutral errors into domain codes for the one status table.
func ledgerError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rights.ErrNotFound):
		return market.Errorf(market.CodeNotFound, market.MsgLedgerNotFound)
	case errors.Is(err, rights.ErrPending):
		return &market.Error{Code: market.CodeUnavailable, RetryAfterSeconds: 1, Msg: market.Message{Key: market.MsgLedgerPending}, Err: err}
	case errors.Is(err, rights.ErrInvalid), errors.Is(err, rights.ErrTooLarge):
		return market.Errorf(market.CodeInvalid, market.MsgLedgerInvalid, strings.TrimPrefix(err.Error(), "invalid: "))
	case errors.Is(err, rights.ErrVerification), errors.Is(err, rights.ErrInconsistent):
		return market.Errorf(market.CodeInvalid, market.MsgLedgerVerify, err.Error())
	}
	return market.Internal(err)
}

// int64Param reads a non-negative integer from the path or query, naming it when malformed.
func int64Param(name, v string, def int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, market.Errorf(market.CodeInvalid, market.MsgFieldFormat, name, "a non-negative integer")
	}
	return n, nil
}

func (s *Server) apiCheckpoint(c *fiber.Ctx) error {
	cp, err := s.ledger.Checkpoint(c.UserContext())
	if err != nil {
		return ledgerError(err)
	}
	// Checkpoints change every fraction of a second; clients poll.
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	return c.Send(cp.Note)
}

func (s *Server) apiLedgerKey(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.SendString(s.ledger.VerifierKey() + "\n")
}

func (s *Server) apiLedgerEntry(c *fiber.Ctx) error {
	i, err := int64Param("index", c.Params("index"), 0)
	if err != nil {
		return err
	}
	v, err := s.ledger.Entry(c.UserContext(), i)
	if err != nil {
		return ledgerError(err)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.JSON(v)
}

func (s *Server) apiLedgerProof(c *fiber.Ctx) error {
	i, err := int64Param("index", c.Params("index"), 0)
	if err != nil {
		return err
	}
	size, err := int64Param("size", c.Query("size"), 0)
	if err != nil {
		return err
	}
	p, err := s.ledger.InclusionProof(c.UserContext(), i, size)
	if err != nil {
		return ledgerError(err)
	}
	return c.JSON(p)
}

func (s *Server) apiLedgerReceipt(c *fiber.Ctx) error {
	i, err := int64Param("index", c.Params("index"), 0)
	if err != nil {
		return err
	}
	r, err := s.ledger.Receipt(c.UserContext(), i)
	if err != nil {
		return ledgerError(err)
	}
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="ziyuan-receipt-%d.json"`, i))
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(r)
}

func (s *Server) apiLedgerConsistency(c *fiber.Ctx) error {
	oldSize, err := int64Param("old", c.Query("old"), 0)
	if err != nil {
		return err
	}
	newSize, err := int64Param("new", c.Query("new"), 0)
	if err != nil {
		return err
	}
	if c.Query("old") == "" || c.Query("new") == "" {
		return market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "old, new")
	}
	p, err := s.ledger.ConsistencyProof(c.UserContext(), oldSize, newSize)
	if err != nil {
		return ledgerError(err)
	}
	return c.JSON(p)
}

// apiLedgerTile serves C2SP tlog-tiles; full tiles never change, so caches may keep them forever.
func (s *Server) apiLedgerTile(c *fiber.Ctx) error {
	t, err := s.ledger.Tile(c.UserContext(), "tile/"+c.Params("*"))
	if err != nil {
		return ledgerError(err)
	}
	if t.Full {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderContentType, "application/octet-stream")
	return c.Send(t.Data)
}

type ledgerPage struct {
	Checkpoint rights.SignedCheckpoint
	Key        string
	Recent     []rights.EntryView
}

// pageLedger shows the public ledger: the latest signed checkpoint and the newest entries.
func (s *Server) pageLedger(c *fiber.Ctx) error {
	ctx := c.UserContext()
	cp, err := s.ledger.Checkpoint(ctx)
	if err != nil {
		return ledgerError(err)
	}
	d := ledgerPage{Checkpoint: cp, Key: s.ledger.VerifierKey()}
	for i := cp.Size - 1; i >= 0 && i >= cp.Size-20; i-- {
		v, err := s.ledger.Entry(ctx, i)
		if err != nil {
			return ledgerError(err)
		}
		d.Recent = append(d.Recent, v)
	}
	return s.render(c, fiber.StatusOK, "ledger", "ledger.title", pageData{Nav: "ledger", Data: d})
}

type entryPage struct {
	Entry rights.EntryView
	Proof *rights.InclusionProof
}

func (s *Server) pageLedgerEntry(c *fiber.Ctx) error {
	i, err := int64Param("index", c.Params("index"), 0)
	if err != nil {
		return err
	}
	v, err := s.ledger.Entry(c.UserContext(), i)
	if err != nil {
		return ledgerError(err)
	}
	d := entryPage{Entry: v}
	if p, err := s.ledger.InclusionProof(c.UserContext(), i, 0); err == nil {
		d.Proof = &p
	} else if !errors.Is(err, rights.ErrPending) {
		return ledgerError(err)
	}
	return s.render(c, fiber.StatusOK, "ledger_entry", "ledger.entry", pageData{Nav: "ledger", Data: d})
}

type verifyPage struct {
	Key    string
	Report *rights.Report
	Failed string
}

func (s *Server) pageVerifyReceipt(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "ledger_verify", "ledger.verify", pageData{Nav: "ledger", Data: verifyPage{Key: s.ledger.VerifierKey()}})
}

// postVerifyReceipt checks an uploaded receipt with the given key (ours by default) and says
// what it proves, or exactly why it does not verify.
func (s *Server) postVerifyReceipt(c *fiber.Ctx) error {
	key := strings.TrimSpace(c.FormValue("key"))
	if key == "" {
		key = s.ledger.VerifierKey()
	}
	d := verifyPage{Key: key}
	fh, err := c.FormFile("receipt")
	if err != nil {
		return market.Errorf(market.CodeInvalid, market.MsgFieldRequired, "receipt")
	}
	f, err := fh.Open()
	if err != nil {
		return market.Internal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return market.Internal(err)
	}
	rep, err := rights.VerifyReceipt(data, key)
	status := fiber.StatusOK
	if err != nil {
		d.Failed, status = err.Error(), fiber.StatusUnprocessableEntity
	} else {
		d.Report = &rep
	}
	return s.render(c, status, "ledger_verify", "ledger.verify", pageData{Nav: "ledger", Data: d})
}
