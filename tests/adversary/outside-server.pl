#!/usr/bin/perl
# A stand-in for a server outside the bottle (tests/engine_adversary.rs). It
# answers every HTTP request on port 80, and every TCP connection or UDP
# datagram on port 53, with its own marker, so a probe can tell which server,
# if any, it reached. Each contact is logged on stdout.
use strict;
use warnings;
use IO::Select;
use IO::Socket::INET;

my $marker = shift or die "usage: outside-server.pl MARKER\n";
$| = 1;
$SIG{CHLD} = 'IGNORE';

my %tcp = map {
    $_ => IO::Socket::INET->new(LocalPort => $_, Listen => 64, ReuseAddr => 1, Proto => 'tcp')
      || die "tcp $_: $!\n"
} (80, 53);
my $udp = IO::Socket::INET->new(LocalPort => 53, Proto => 'udp') or die "udp 53: $!\n";
my $select = IO::Select->new(values %tcp, $udp);
print "listening\n";

while (1) {
    for my $socket ($select->can_read) {
        if ($socket == $udp) {
            my $peer = $udp->recv(my $datagram, 4096) or next;
            my ($port, $addr) = unpack_sockaddr_in($peer);
            print "contact udp/53 from ", inet_ntoa($addr), "\n";
            $udp->send("$marker\n", 0, $peer);
            next;
        }
        my $client = $socket->accept or next;
        my $pid = fork;
        if (!defined $pid || $pid) {
            close $client;
            next;
        }
        my $port = $client->sockport;
        my $head = '';
        # HTTP is answered once the head is in, DNS over TCP once a query is
        # (closing with unread data would reset the connection, reply and all).
        my $readable = IO::Select->new($client);
        while ($head !~ /\r?\n\r?\n/ && $readable->can_read($port == 80 ? 2 : 0.5)) {
            sysread($client, my $chunk, 4096) or last;
            $head .= $chunk;
            last if $port != 80;
        }
        my $first = $port == 80 ? (split /\r?\n/, $head)[0] // '' : length($head) . ' bytes';
        print "contact tcp/$port from ", $client->peerhost, ": $first\n";
        my $body = "$marker\n";
        print $client "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
          . length($body) . "\r\nConnection: close\r\n\r\n$body";
        close $client;
        exit 0;
    }
}
