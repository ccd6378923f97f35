// Package producer takes campaigns in and puts one mmlite:send job per
// recipient into Redis, fast and idempotently: a re-run, a retried upload or
// a duplicate row never makes a second job.
//
// Upstream Go systems use it directly:
//
//	p, _ := producer.New(producer.Config{Redis: opt})
//	c, _ := campaign.Decode(campaignJSON)
//	_, _ = p.Register(ctx, c)
//	sum, _ := p.Enqueue(ctx, c, producer.NewCSVSource(file), producer.Options{})
//	_, _ = p.Seal(ctx, c.ID) // the list is whole: the campaign completes once it is sent
//
// The campaign definition is stored once; each job carries only its
// recipient's number, template parameters and metadata. Jobs are paced at
// the sender's rate when they are enqueued, so that a slow sender's backlog
// waits in Redis instead of in front of other senders' jobs.
package producer
