package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/edgetran/edgetran/collector/store"
	"github.com/edgetran/edgetran/collector/surrogate"
	"github.com/edgetran/edgetran/shared/measure"
	"github.com/edgetran/edgetran/shared/wire"
)

// Client calls a collector's API. The zero HTTP field uses
// http.DefaultClient.
type Client struct {
	BaseURL string // e.g. "http://127.0.0.1:8080"
	Token   string // sent as a bearer token when set
	HTTP    *http.Client
}

// NewClient returns a client of the collector at baseURL after checking
// that it is an http or https URL.
func NewClient(baseURL, token string) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("collector URL %q: want http://host:port", baseURL)
	}
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}, nil
}

// do sends a request and decodes a JSON response into out when out is not
// nil. A non-2xx status becomes an error carrying the server's message.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// send returns the response of a successful request; the caller closes
// its body.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, reader)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	httpClient := c.HTTP
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("collector at %s is unreachable: %w", c.BaseURL, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var e ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(data, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(data))
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("collector rejected the token (401): %s; pass --token or set EDGETRAN_TOKEN", e.Error)
	}
	return nil, &StatusError{Code: resp.StatusCode, Message: e.Error}
}

// StatusError is a non-2xx response.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("collector returned %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// IsNotFound reports whether err is a 404 response.
func IsNotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// Health returns the collector's health.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	err := c.do(ctx, http.MethodGet, "/api/v1/health", nil, &h)
	return h, err
}

// Import sends records to POST /api/v1/import.
func (c *Client) Import(ctx context.Context, req ImportRequest) (ImportReport, error) {
	var rep ImportReport
	err := c.do(ctx, http.MethodPost, "/api/v1/import", req, &rep)
	return rep, err
}

// Measurement returns the stored measurement with id.
func (c *Client) Measurement(ctx context.Context, id string) (measure.Measurement, error) {
	var m measure.Measurement
	err := c.do(ctx, http.MethodGet, "/api/v1/measurements/"+url.PathEscape(id), nil, &m)
	return m, err
}

// Accuracy lists the stored accuracy records, of one architecture when
// archID is set.
func (c *Client) Accuracy(ctx context.Context, archID string) ([]measure.Accuracy, error) {
	q := url.Values{}
	if archID != "" {
		q.Set("arch_id", archID)
	}
	var list []measure.Accuracy
	err := c.do(ctx, http.MethodGet, "/api/v1/accuracy?"+q.Encode(), nil, &list)
	return list, err
}

// SubmitJob sends job to POST /api/v1/jobs and returns the stored job.
func (c *Client) SubmitJob(ctx context.Context, job wire.Job) (store.Job, error) {
	var j store.Job
	err := c.do(ctx, http.MethodPost, "/api/v1/jobs", job, &j)
	return j, err
}

// Jobs lists jobs, optionally of one device and status.
func (c *Client) Jobs(ctx context.Context, device string, status store.JobStatus) ([]store.Job, error) {
	q := url.Values{}
	if device != "" {
		q.Set("device", device)
	}
	if status != "" {
		q.Set("status", string(status))
	}
	var list []store.Job
	err := c.do(ctx, http.MethodGet, "/api/v1/jobs?"+q.Encode(), nil, &list)
	return list, err
}

// Devices lists devices.
func (c *Client) Devices(ctx context.Context) ([]DeviceStatus, error) {
	var list []DeviceStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/devices", nil, &list)
	return list, err
}

// Export copies every matching measurement in format (FormatJSONL or
// FormatCSV) to w; device may be empty.
func (c *Client) Export(ctx context.Context, w io.Writer, format, device string) error {
	q := url.Values{"format": {format}}
	if device != "" {
		q.Set("device", device)
	}
	resp, err := c.send(ctx, http.MethodGet, "/api/v1/measurements?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("export measurements: %w", err)
	}
	return nil
}

// Surrogates lists the fitted surrogate models.
func (c *Client) Surrogates(ctx context.Context) ([]surrogate.ModelInfo, error) {
	var list []surrogate.ModelInfo
	err := c.do(ctx, http.MethodGet, "/api/v1/surrogates", nil, &list)
	return list, err
}

// Predict sends req to POST /api/v1/predict. A target without a fitted
// model returns a *StatusError with code 409.
func (c *Client) Predict(ctx context.Context, req PredictRequest) (PredictResponse, error) {
	var out PredictResponse
	err := c.do(ctx, http.MethodPost, "/api/v1/predict", req, &out)
	return out, err
}

// StartCampaign sends req to POST /api/v1/campaigns and returns the new
// campaign's status.
func (c *Client) StartCampaign(ctx context.Context, req StartCampaignRequest) (CampaignStatus, error) {
	var out CampaignStatus
	err := c.do(ctx, http.MethodPost, "/api/v1/campaigns", req, &out)
	return out, err
}

// Campaigns lists every campaign, newest first.
func (c *Client) Campaigns(ctx context.Context) ([]CampaignSummary, error) {
	var list []CampaignSummary
	err := c.do(ctx, http.MethodGet, "/api/v1/campaigns", nil, &list)
	return list, err
}

// Campaign returns the status of campaign id; IsNotFound(err) holds for an
// unknown id.
func (c *Client) Campaign(ctx context.Context, id string) (CampaignStatus, error) {
	var out CampaignStatus
	err := c.do(ctx, http.MethodGet, "/api/v1/campaigns/"+url.PathEscape(id), nil, &out)
	return out, err
}
