package producer_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// An upstream Go program registers a campaign, enqueues its recipients from
// CSV and seals it; the workers do the rest.
func Example() {
	mr, _ := miniredis.Run() // a real Redis in production: asynq.RedisClientOpt{Addr: "redis:6379"}
	defer mr.Close()
	ctx := context.Background()

	p, err := producer.New(producer.Config{Redis: asynq.RedisClientOpt{Addr: mr.Addr()}})
	if err != nil {
		panic(err)
	}
	defer p.Close()
	c, err := campaign.Decode([]byte(`{"id": "spring-sale", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`))
	if err != nil {
		panic(err)
	}
	if _, err := p.Register(ctx, c); err != nil {
		panic(err)
	}
	csv := "to,body.1,meta.crm_id\n+55 11 91234-5678,Ana,42\n5511998765432,Bruno,43\n12,Carla,44\n"
	sum, err := p.Enqueue(ctx, c, producer.NewCSVSource(strings.NewReader(csv)), producer.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d accepted, %d rejected: line %d: %s\n", sum.Accepted, sum.Rejected, sum.Errors[0].Line, sum.Errors[0].Reason)
	st, err := p.Seal(ctx, c.ID) // that was the whole list
	if err != nil {
		panic(err)
	}
	fmt.Println(st.State, st.Counts.Enqueued, "enqueued, sealed:", st.Sealed)
	// Output:
	// 2 accepted, 1 rejected: line 4: to: "12" is not an international phone number: 2 digits, want 8 to 15
	// running 2 enqueued, sealed: true
}
