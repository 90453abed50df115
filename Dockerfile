# The Klarna mock as a container: docker build -t klarna-mock . && docker run -p 8480:8480 klarna-mock
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /klarna-mock ./cmd/klarna-mock

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /klarna-mock /klarna-mock
# Inside a container the mock must listen on every interface; point --public-url (or
# KLARNA_MOCK_PUBLIC_URL) at the address customers' browsers use when it is not the Host header.
ENV KLARNA_MOCK_ADDR=0.0.0.0:8480
EXPOSE 8480
USER nonroot
ENTRYPOINT ["/klarna-mock"]
