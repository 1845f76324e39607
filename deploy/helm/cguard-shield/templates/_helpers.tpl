{{/* The namespace of every object: namespace.name, or the release's. */}}
{{- define "cguard-shield.namespace" -}}
{{- default .Release.Namespace .Values.namespace.name -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "cguard-shield.labels" -}}
app.kubernetes.io/name: cguard-shield
app.kubernetes.io/part-of: cguard
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The Secret holding the enrolment token. */}}
{{- define "cguard-shield.secretName" -}}
{{- default "cguard-shield-enrolment" .Values.existingSecret -}}
{{- end -}}

{{/* The image reference. */}}
{{- define "cguard-shield.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
