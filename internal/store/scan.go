package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// Finished is one recipient's final outcome, as the ledger keeps it.
type Finished struct {
	To      string
	Outcome *Outcome
}

// scanCount is how many ledger entries one HSCAN call asks for.
const scanCount = 500

// ScanFinal calls fn with the final outcomes of a campaign's recipients, a
// batch at a time, holding one batch only: a ledger of millions is read in
// bounded memory. As with any HSCAN, an entry may (rarely, while the ledger
// grows) come twice. The campaign must exist (see Campaigns.Get).
func (s Ledger) ScanFinal(ctx context.Context, id string, fn func([]Finished) error) error {
	var cursor uint64
	batch := make([]Finished, 0, scanCount)
	for {
		kv, next, err := s.rdb.HScan(ctx, s.keys.Ledger(id), cursor, "", scanCount).Result()
		if err != nil {
			return fmt.Errorf("campaign: read the ledger of %s: %w", id, err)
		}
		batch = batch[:0]
		for i := 0; i+1 < len(kv); i += 2 {
			m := kv[i+1]
			if len(m) < 2 || m[0] != 'F' {
				continue
			}
			o := new(Outcome)
			if err := json.Unmarshal([]byte(m[1:]), o); err != nil {
				return fmt.Errorf("campaign: decode the outcome of a recipient of %s: %w", id, err)
			}
			batch = append(batch, Finished{To: kv[i], Outcome: o})
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
