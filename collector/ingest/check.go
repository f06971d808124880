package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/edgetran/edgetran/shared/arch"
	"github.com/edgetran/edgetran/shared/wire"
)

// jobResultID matches the ids wire.ResultID gives: "<job>#<attempt>".
var jobResultID = regexp.MustCompile(`#[0-9]+$`)

// Check decodes a result message received on subject and validates it. The
// device in the subject and in the result must agree. A job's result must
// carry the id wire.ResultID gives its job and attempt; a result without a
// job must not use an id of that form. A measurement must
// pass measure.Measurement.Validate, carry the result's id and hold a valid
// architecture of space whose id matches arch_id. An error result must name
// its job and error. Each failure is an error naming the field, and the
// ingest dead-letters the message with that error as the reason.
func Check(subject string, data []byte, space *arch.Space) (wire.Result, error) {
	device, err := wire.DeviceFromSubject(subject)
	if err != nil {
		return wire.Result{}, err
	}
	var r wire.Result
	if err := json.Unmarshal(data, &r); err != nil {
		return wire.Result{}, fmt.Errorf("decode result JSON: %w", err)
	}
	var errs []error
	if r.ID == "" {
		errs = append(errs, errors.New("result id is missing"))
	}
	if r.Device != device {
		errs = append(errs, fmt.Errorf("result device %q differs from subject device %q", r.Device, device))
	}
	// A job's result id is fixed by the job and attempt, so one device can
	// neither take another job's id nor reserve an id ahead of its job.
	switch {
	case r.JobID != "" && r.ID != wire.ResultID(r.JobID, r.Attempt):
		errs = append(errs, fmt.Errorf("result id %q of job %q attempt %d: want %q", r.ID, r.JobID, r.Attempt, wire.ResultID(r.JobID, r.Attempt)))
	case r.JobID == "" && jobResultID.MatchString(r.ID):
		errs = append(errs, fmt.Errorf("result id %q has the form of a job's result id but names no job_id: set job_id and attempt, or use another id", r.ID))
	}
	switch r.Kind {
	case wire.ResultMeasurement:
		errs = append(errs, checkMeasurement(r, space)...)
	case wire.ResultError:
		if r.JobID == "" {
			errs = append(errs, errors.New("error result has no job_id"))
		}
		if r.Error == nil {
			errs = append(errs, errors.New("error result has no error"))
		}
	default:
		errs = append(errs, fmt.Errorf("result kind %q: want %q or %q", r.Kind, wire.ResultMeasurement, wire.ResultError))
	}
	if err := errors.Join(errs...); err != nil {
		return wire.Result{}, err
	}
	return r, nil
}

func checkMeasurement(r wire.Result, space *arch.Space) []error {
	m := r.Measurement
	if m == nil {
		return []error{errors.New("measurement result has no measurement")}
	}
	var errs []error
	if m.ID != r.ID {
		errs = append(errs, fmt.Errorf("measurement id %q differs from result id %q", m.ID, r.ID))
	}
	if err := m.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("measurement: %w", err))
	}
	if m.Target.Device != r.Device {
		errs = append(errs, fmt.Errorf("measurement target device %q differs from result device %q", m.Target.Device, r.Device))
	}
	if err := space.Validate(m.Arch); err != nil {
		errs = append(errs, fmt.Errorf("measurement architecture: %w", err))
	} else if id := space.ID(m.Arch); id != m.ArchID {
		errs = append(errs, fmt.Errorf("measurement arch_id %q differs from the architecture's id %q", m.ArchID, id))
	}
	return errs
}
