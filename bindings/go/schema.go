package hcs

import "encoding/json"

// The JSON documents of hcs-schema(7) that this package reads and writes. Member names are the
// schema's (exact case); optional members are omitted when zero. Documents can also be given
// as a string, a []byte or json.RawMessage wherever an interface{} document is taken.

// Version is a schema version.
type Version struct {
	Major uint32 `json:"Major"`
	Minor uint32 `json:"Minor"`
}

// ComputeSystem is the configuration of CreateSystem.
type ComputeSystem struct {
	Owner                             string     `json:"Owner,omitempty"`
	SchemaVersion                     *Version   `json:"SchemaVersion,omitempty"`
	ShouldTerminateOnLastHandleClosed bool       `json:"ShouldTerminateOnLastHandleClosed,omitempty"`
	Container                         *Container `json:"Container,omitempty"`
}

// Container describes a process-isolated container.
type Container struct {
	GuestOs           *GuestOs          `json:"GuestOs,omitempty"`
	Storage           *Storage          `json:"Storage,omitempty"`
	MappedDirectories []MappedDirectory `json:"MappedDirectories,omitempty"`
	Memory            *Memory           `json:"Memory,omitempty"`
	Processor         *Processor        `json:"Processor,omitempty"`
	Networking        *Networking       `json:"Networking,omitempty"`
	Linux             *ContainerLinux   `json:"Linux,omitempty"`
}

// GuestOs holds the container's host name.
type GuestOs struct {
	HostName string `json:"HostName,omitempty"`
}

// Storage is the container's root: read-only layers (nearest parent first) and a writable
// layer folder (Path; without it the root is read-only).
type Storage struct {
	Layers []Layer `json:"Layers"`
	Path   string  `json:"Path,omitempty"`
}

// Layer is a read-only layer: a folder made by HcsImportLayer or a plain root folder.
type Layer struct {
	Id       string `json:"Id,omitempty"`
	Path     string `json:"Path"`
	PathType string `json:"PathType,omitempty"`
}

// MappedDirectory binds a host folder or file into the container.
type MappedDirectory struct {
	HostPath      string `json:"HostPath"`
	ContainerPath string `json:"ContainerPath"`
	ReadOnly      bool   `json:"ReadOnly,omitempty"`
}

// Memory is the container's memory limit.
type Memory struct {
	SizeInMB uint64 `json:"SizeInMB,omitempty"`
}

// Processor limits the container's CPU time.
type Processor struct {
	Count   uint32 `json:"Count,omitempty"`
	Maximum uint32 `json:"Maximum,omitempty"`
	Weight  uint32 `json:"Weight,omitempty"`
}

// Networking names the network namespace to join.
type Networking struct {
	Namespace                  string `json:"Namespace,omitempty"`
	NetworkSharedContainerName string `json:"NetworkSharedContainerName,omitempty"`
}

// ContainerLinux is the libhcs extension Container.Linux (OCI names).
type ContainerLinux struct {
	Resources *LinuxResources `json:"resources,omitempty"`
}

// LinuxResources holds OCI resource limits.
type LinuxResources struct {
	Pids *LinuxPids `json:"pids,omitempty"`
}

// LinuxPids limits the number of processes (0: no limit).
type LinuxPids struct {
	Limit int64 `json:"limit"`
}

// ProcessParameters describes a process for System.CreateProcess.
type ProcessParameters struct {
	ApplicationName  string            `json:"ApplicationName,omitempty"`
	CommandLine      string            `json:"CommandLine,omitempty"`
	CommandArgs      []string          `json:"CommandArgs,omitempty"`
	User             string            `json:"User,omitempty"`
	WorkingDirectory string            `json:"WorkingDirectory,omitempty"`
	Environment      map[string]string `json:"Environment,omitempty"`
	CreateStdInPipe  bool              `json:"CreateStdInPipe,omitempty"`
	CreateStdOutPipe bool              `json:"CreateStdOutPipe,omitempty"`
	CreateStdErrPipe bool              `json:"CreateStdErrPipe,omitempty"`
	EmulateConsole   bool              `json:"EmulateConsole,omitempty"`
	ConsoleSize      []uint16          `json:"ConsoleSize,omitempty"` // [height, width]
}

// ProcessStatus is the state or exit status of a process.
type ProcessStatus struct {
	ProcessId      uint32 `json:"ProcessId"`
	Exited         bool   `json:"Exited"`
	ExitCode       int    `json:"ExitCode"`
	LastWaitResult int32  `json:"LastWaitResult"`
	Signal         int    `json:"Signal,omitempty"` // the signal that killed it (libhcs extension)
}

// SystemExitStatus says how a compute system stopped.
type SystemExitStatus struct {
	Status   HRESULT `json:"Status"`
	ExitType string  `json:"ExitType"` // GracefulExit, ForcedExit or UnexpectedExit
}

// PropertyType names a property group of System.Properties.
type PropertyType string

// The property types System.Properties accepts.
const (
	PropertyTypeStatistics                  PropertyType = "Statistics"
	PropertyTypeProcessList                 PropertyType = "ProcessList"
	PropertyTypeMemory                      PropertyType = "Memory"
	PropertyTypeTerminateOnLastHandleClosed PropertyType = "TerminateOnLastHandleClosed"
)

// PropertyQuery is the query of System.Properties.
type PropertyQuery struct {
	PropertyTypes []PropertyType `json:"PropertyTypes,omitempty"`
}

// Properties is the result of System.Properties.
type Properties struct {
	Id                          string            `json:"Id"`
	SystemType                  string            `json:"SystemType"`
	Name                        string            `json:"Name"`
	Owner                       string            `json:"Owner"`
	RuntimeOsType               string            `json:"RuntimeOsType"`
	State                       string            `json:"State"`
	Stopped                     bool              `json:"Stopped"`
	ExitType                    string            `json:"ExitType,omitempty"`
	Statistics                  *Statistics       `json:"Statistics,omitempty"`
	ProcessList                 []ProcessDetails  `json:"ProcessList,omitempty"`
	Memory                      *MemoryProperties `json:"Memory,omitempty"`
	TerminateOnLastHandleClosed bool              `json:"TerminateOnLastHandleClosed,omitempty"`
}

// Statistics are a system's resource counters.
type Statistics struct {
	Timestamp    string          `json:"Timestamp"`
	Uptime100ns  uint64          `json:"Uptime100ns"`
	Processor    *ProcessorStats `json:"Processor,omitempty"`
	Memory       *MemoryStats    `json:"Memory,omitempty"`
	ProcessCount uint64          `json:"ProcessCount"`
}

// ProcessorStats are CPU times in 100 ns units.
type ProcessorStats struct {
	TotalRuntime100ns  uint64 `json:"TotalRuntime100ns"`
	RuntimeUser100ns   uint64 `json:"RuntimeUser100ns"`
	RuntimeKernel100ns uint64 `json:"RuntimeKernel100ns"`
}

// MemoryStats are memory counters in bytes.
type MemoryStats struct {
	MemoryUsageCommitBytes            uint64 `json:"MemoryUsageCommitBytes"`
	MemoryUsageCommitPeakBytes        uint64 `json:"MemoryUsageCommitPeakBytes"`
	MemoryUsagePrivateWorkingSetBytes uint64 `json:"MemoryUsagePrivateWorkingSetBytes"`
}

// ProcessDetails is one process of a ProcessList.
type ProcessDetails struct {
	ProcessId                    uint32 `json:"ProcessId"`
	ImageName                    string `json:"ImageName"`
	UserTime100ns                uint64 `json:"UserTime100ns"`
	KernelTime100ns              uint64 `json:"KernelTime100ns"`
	MemoryCommitBytes            uint64 `json:"MemoryCommitBytes"`
	MemoryWorkingSetPrivateBytes uint64 `json:"MemoryWorkingSetPrivateBytes"`
}

// MemoryProperties is the Memory property group.
type MemoryProperties struct {
	SizeInMB       uint64 `json:"SizeInMB,omitempty"`
	UsageBytes     uint64 `json:"UsageBytes"`
	PeakUsageBytes uint64 `json:"PeakUsageBytes"`
}

// SystemQuery filters EnumerateSystems: filters combine with AND, values in one with OR.
type SystemQuery struct {
	Ids    []string `json:"Ids,omitempty"`
	Names  []string `json:"Names,omitempty"`
	Types  []string `json:"Types,omitempty"`
	Owners []string `json:"Owners,omitempty"`
}

// SystemSummary is one element of the EnumerateSystems result.
type SystemSummary struct {
	Id            string `json:"Id"`
	Name          string `json:"Name"`
	SystemType    string `json:"SystemType"`
	State         string `json:"State"`
	Owner         string `json:"Owner"`
	RuntimeOsType string `json:"RuntimeOsType"`
}

// ModifySettingRequest is a change for System.Modify.
type ModifySettingRequest struct {
	ResourcePath string      `json:"ResourcePath"`
	RequestType  string      `json:"RequestType"` // Add, Remove or Update
	Settings     interface{} `json:"Settings,omitempty"`
}

// ShutdownOptions are the options of System.ShutdownWithOptions.
type ShutdownOptions struct {
	Force              bool    `json:"Force,omitempty"`
	GracePeriodSeconds *uint32 `json:"GracePeriodSeconds,omitempty"`
}

// ServiceProperties is the result of GetServiceProperties: one element per type asked.
type ServiceProperties struct {
	Properties []json.RawMessage `json:"Properties"`
}

// BasicInformation is the "Basic" service property.
type BasicInformation struct {
	SupportedSchemaVersions []Version `json:"SupportedSchemaVersions"`
	LibraryVersion          string    `json:"LibraryVersion"`
}

// HostInformation is the "Host" service property (libhcs extension).
type HostInformation struct {
	CgroupMode     string `json:"CgroupMode"`
	Overlayfs      bool   `json:"Overlayfs"`
	Kvm            bool   `json:"Kvm"`
	UserNamespaces bool   `json:"UserNamespaces"`
	KernelRelease  string `json:"KernelRelease"`
	RuntimeRoot    string `json:"RuntimeRoot"`
	DataRoot       string `json:"DataRoot"`
}

// document turns a document argument into JSON text: a string, []byte or json.RawMessage as
// is, nil as "" (no document), anything else through encoding/json.
func document(doc interface{}) (string, error) {
	switch d := doc.(type) {
	case nil:
		return "", nil
	case string:
		return d, nil
	case []byte:
		return string(d), nil
	case json.RawMessage:
		return string(d), nil
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
