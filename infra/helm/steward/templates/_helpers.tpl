{{/* Names and labels. */}}
{{- define "steward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "steward.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "steward.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "steward.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "steward.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "steward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "root" $ "component" "api"). */}}
{{- define "steward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "steward.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "steward.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "steward.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "steward.fullname" .)) -}}
{{- end -}}

{{/*
The variables the chart sets itself, from its own values: a `config` or `secrets.values` entry
for one of them would be overridden or contradict the chart, so it is refused.
*/}}
{{- define "steward.ownedVariables" -}}
{{- list "TEMPORAL_ADDRESS" "TEMPORAL_NAMESPACE" "STEWARD_TEMPORAL_UI_URL" "TEMPORAL_API_KEY" "TEMPORAL_TLS" "TEMPORAL_TLS_CLIENT_CERT_PATH" "TEMPORAL_TLS_CLIENT_CERT_DATA" "TEMPORAL_TLS_CLIENT_KEY_PATH" "TEMPORAL_TLS_CLIENT_KEY_DATA" "TEMPORAL_TLS_SERVER_CA_CERT_PATH" "TEMPORAL_TLS_SERVER_CA_CERT_DATA" "TEMPORAL_TLS_SERVER_NAME" "DATABASE_URL" "STEWARD_DATA_DIR" "STEWARD_WORKER_ROLES" "STEWARD_WORKER_HEALTH_PORT" "STEWARD_API_PORT" "STEWARD_SERVICES_FILE" "STEWARD_SANDBOX_BACKEND" "STEWARD_TEMPORAL_METRICS_PORT" | toJson -}}
{{- end -}}

{{/* Fails the render on a name Steward does not read (steward-variables.json, kept equal to config/config.ts by infra/helm.test.ts) or one the chart owns. */}}
{{- define "steward.checkVariables" -}}
{{- $known := .root.Files.Get "steward-variables.json" | fromJsonArray -}}
{{- $owned := include "steward.ownedVariables" .root | fromJsonArray -}}
{{- range $name, $_ := .values -}}
{{- if not (has $name $known) -}}
{{- fail (printf "%s.%s: Steward reads no variable %s (the variables are listed in .env.example)" $.where $name $name) -}}
{{- end -}}
{{- if has $name $owned -}}
{{- fail (printf "%s.%s: the chart sets %s itself, from its own values (see the chart's README)" $.where $name $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The environment every Steward container shares: Temporal, Postgres, paths, config and secrets. */}}
{{- define "steward.env" -}}
- name: TEMPORAL_ADDRESS
  value: {{ required "temporal.address is required: the frontend of your Temporal (host:port)" .Values.temporal.address | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
{{- with .Values.temporal.webUiUrl }}
- name: STEWARD_TEMPORAL_UI_URL
  value: {{ . | quote }}
{{- end }}
{{- $tls := .Values.temporal.tls }}
{{- if $tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if $tls.clientCertSecret }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/steward/temporal-client/{{ $tls.clientCertKey }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/steward/temporal-client/{{ $tls.clientKeyKey }}
{{- end }}
{{- if $tls.caSecret }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: /etc/steward/temporal-ca/{{ $tls.caKey }}
{{- end }}
{{- with $tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.apiKey.secretName }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.temporal.apiKey.secretName }}
      key: {{ .Values.temporal.apiKey.secretKey }}
{{- end }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.postgres.existingSecret.name }}
      name: {{ .Values.postgres.existingSecret.name }}
      key: {{ .Values.postgres.existingSecret.key }}
      {{- else if .Values.postgres.url }}
      name: {{ include "steward.fullname" . }}-postgres
      key: DATABASE_URL
      {{- else }}
      {{- fail "postgres.url or postgres.existingSecret.name is required: Steward keeps its ledger in Postgres" }}
      {{- end }}
- name: STEWARD_DATA_DIR
  value: /var/lib/steward
{{- if .Values.services }}
- name: STEWARD_SERVICES_FILE
  value: /etc/steward/services/services.json
{{- end }}
{{- end -}}

{{- define "steward.envFrom" -}}
- configMapRef:
    name: {{ include "steward.fullname" . }}-config
- secretRef:
    name: {{ include "steward.secretName" . }}
{{- end -}}

{{/* Mounts and volumes of the Temporal certificates and the services file. */}}
{{- define "steward.configMounts" -}}
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-client
  mountPath: /etc/steward/temporal-client
  readOnly: true
{{- end }}
{{- if .Values.temporal.tls.caSecret }}
- name: temporal-ca
  mountPath: /etc/steward/temporal-ca
  readOnly: true
{{- end }}
{{- if .Values.services }}
- name: services
  mountPath: /etc/steward/services
  readOnly: true
{{- end }}
{{- end -}}

{{- define "steward.configVolumes" -}}
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-client
  secret:
    secretName: {{ .Values.temporal.tls.clientCertSecret }}
    defaultMode: 0440
{{- end }}
{{- if .Values.temporal.tls.caSecret }}
- name: temporal-ca
  secret:
    secretName: {{ .Values.temporal.tls.caSecret }}
    defaultMode: 0444
{{- end }}
{{- if .Values.services }}
- name: services
  configMap:
    name: {{ include "steward.fullname" . }}-services
{{- end }}
{{- end -}}

{{/* Restart the pods when their configuration changes. */}}
{{- define "steward.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
checksum/secrets: {{ include (print .Template.BasePath "/secrets.yaml") . | sha256sum }}
{{- end -}}

{{/* The container securityContext of the API and the incident workers: nothing beyond a plain process. */}}
{{- define "steward.restrictedSecurityContext" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Prometheus's scrape annotations for a pod serving Steward's /metrics on `port` (metrics.scrapeAnnotations). */}}
{{- define "steward.scrapeAnnotations" -}}
{{- if .root.Values.metrics.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* The Temporal SDK's metrics port of a worker pod (metrics.temporalSdkPort): its variable. */}}
{{- define "steward.temporalMetricsEnv" -}}
{{- if .Values.metrics.temporalSdkPort }}
- name: STEWARD_TEMPORAL_METRICS_PORT
  value: {{ .Values.metrics.temporalSdkPort | quote }}
{{- end }}
{{- end -}}

{{/* …and its container port, named for a PodMonitor or a second scrape job. */}}
{{- define "steward.temporalMetricsPort" -}}
{{- if .Values.metrics.temporalSdkPort }}
- name: temporal-metrics
  containerPort: {{ .Values.metrics.temporalSdkPort }}
{{- end }}
{{- end -}}
